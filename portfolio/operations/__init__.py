"""What operators and load balancers ask of a running app: is it alive, is it ready."""
