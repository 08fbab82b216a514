"""The off-the-job training log: hours, approval, the pace chart."""
