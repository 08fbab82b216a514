"""Make the ZIP export of a portfolio holding 1 GB of files by a worker, download it, and measure memory.

    python benchmarks/export_zip_memory.py [--size-mb 1024] [--files 16] [--photos 4] [--s3]
                                           [--server postgresql://postgres@127.0.0.1:5432/test]

Starts a cluster (benchmarks/cluster.py) of one gunicorn host with one worker process, and one
`portfolio worker`, on a scratch PostgreSQL database, with the evidence in a folder (or, --s3, a
versioned bucket of moto's S3 server). It holds an apprentice's portfolio of FILES evidence items
each holding one PDF of SIZE/FILES MB (random bytes, so each is stored whole), plus PHOTOS items
with a picture each (for the PDF's previews). Signed in as the apprentice, it asks for the PDF
export, then for the ZIP (which carries that PDF rather than render it again), each made by the
worker, and downloads the ZIP through the host, reading it as it arrives. It prints the ZIP's size,
the times, and the resident memory of the worker while it made each export and of the web process
while it streamed the download, each before and at its peak (the peak is reset first through
/proc/PID/clear_refs, so what came before does not count). The aim is a rise of under 100 MB in
each, however large the files. Finally the ZIP is opened and every entry's CRC checked.
"""

from __future__ import annotations

import argparse
import re
import time
import zipfile

from cluster import Browser, Cluster, children, database_options, peak_rss_mb, reset_peak, rss_mb

AIM_MB = 100


class Memory:
    """One process's resident memory from a reset of its peak: before, and at the peak since."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.reset = reset_peak(pid)
        self.before = rss_mb(pid) if self.reset else peak_rss_mb(pid)

    def line(self, what: str) -> str:
        peak = peak_rss_mb(self.pid)
        rise = peak - self.before
        note = "" if self.reset else " (peak not reset: what came before may count)"
        return f"{what}: {self.before:.0f} MB before, peak {peak:.0f} MB: +{rise:.0f} MB (aim: under {AIM_MB} MB){note}"


def export(browser: Browser, enrolment_id: int, export_format: str) -> tuple[int, float]:
    """Ask for the export and wait until a worker has made it: (export id, seconds)."""
    started = time.perf_counter()
    status, export_id, _ = browser.ask_export(enrolment_id, export_format)
    if not export_id:
        raise SystemExit(f"asking for the {export_format} answered {status}")
    state = browser.wait_for_export(enrolment_id, export_id, timeout=1800, every=0.5)
    if state != "ready":
        raise SystemExit(f"the {export_format} export is {state}")
    return export_id, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="MB of PDF files in the portfolio (default 1024)")
    parser.add_argument("--files", type=int, default=16, help="how many PDF files share that size (default 16)")
    parser.add_argument("--photos", type=int, default=4, help="pictures besides (default 4)")
    database_options(parser, hosts=1, workers=1)
    args = parser.parse_args()
    started = time.perf_counter()
    with Cluster(args.server, 1, 1, args.s3, processes_per_host=1, keep=args.keep) as cluster:
        built = cluster.setup(
            "--bulk-mb", str(args.size_mb), "--bulk-files", str(args.files), "--bulk-photos", str(args.photos)
        )
        person = next(p for p in built if p.get("kind") == "bulk")
        cluster.serve()
        print(f"built the portfolio in {time.perf_counter() - started:.1f} s; {cluster.where()}")
        browser = Browser(cluster.hosts[0].port)
        browser.sign_in(person["email"])
        worker = cluster.workers[0].pid
        (web,) = children(cluster.hosts[0].pid)  # gunicorn's one worker process serves every request

        making_pdf = Memory(worker)
        _, pdf_seconds = export(browser, person["enrolment"], "pdf")
        pdf_line = making_pdf.line("worker making the PDF")
        making_zip = Memory(worker)
        export_id, zip_seconds = export(browser, person["enrolment"], "zip")
        zip_line = making_zip.line("worker making the ZIP")

        archive = cluster.scratch / "portfolio.zip"
        streaming = Memory(web)
        path = f"/enrolments/{person['enrolment']}/exports/{export_id}/download"
        status, seconds, size = browser.download_to(path, archive)
        web_line = streaming.line("web process streaming the download")
        if status != 200:
            raise SystemExit(f"the download answered {status}")
        with zipfile.ZipFile(archive) as opened:
            bad = opened.testzip()
            entries = len(opened.infolist())
        made = [entry.get("message", "") for entry in cluster.workers[0].log_lines()]
        jobs = [m for m in made if re.match(r"Job exports\.make .* done", str(m))]
    crc = "correct" if bad is None else f"WRONG in {bad}"
    print(f"ZIP: {size / 2**20:,.0f} MB in {entries} entries, every CRC {crc}")
    print(f"PDF asked and made by the worker in {pdf_seconds:.1f} s, then the ZIP in {zip_seconds:.1f} s")
    print(f"  the worker's log: {'; '.join(str(m) for m in jobs)}")
    print(f"download through the host: {seconds:.1f} s ({size / 2**20 / seconds:,.0f} MB/s)")
    print(pdf_line)
    print(zip_line)
    print(web_line)
    raise SystemExit(0 if bad is None else 1)


if __name__ == "__main__":
    main()
