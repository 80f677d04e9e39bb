"""`make bench`: build the data sets, run every benchmark, write bench/RESULTS.md.

    .venv/bin/python bench/run.py [--jobs 2] [--quick] [--skip-wall]

1. Data sets, each built afresh by `flask seed-scale` (bench/out/, git-ignored): N=100 and
   N=10,000 proposals, and N=150 with the decisions released for the letters.
2. Instruction counts (callgrind, the primary measure), at most --jobs processes at a time:
   every main page and each user's bare route (bench/pages.py), twice, to show the counts
   repeat; the light pages again at N=10,000; consensus and ranking in `workflows` at N=1,000 and
   10,000; one decision letter against WeasyPrint alone; and the literal method on one page
   (bench/serve_n.py: a process serving N requests minus one serving none) to check that the
   in-process segments give the same count.
3. Statement counts per page at N=100 and N=10,000 (natively).
4. Wall time, alone on the machine as far as we are concerned (nothing of ours runs beside it):
   a batch of 100 letters on the job queue with two workers against one, and gunicorn + wrk
   throughput of the platform against a bare Flask app.
5. bench/RESULTS.md, and every raw output under bench/out/.
"""

# ruff: noqa: S603 - the commands run here are our own tools with our own arguments

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
PY = str(ROOT / ".venv" / "bin" / "python")
FLASK = str(ROOT / ".venv" / "bin" / "flask")
sys.path.insert(0, str(BENCH))

import cgreq  # noqa: E402
from pages import PAGES, bare_key  # noqa: E402

SIZES = (100, 10_000)
LETTERS_N = 150
LIGHT_PAGES = ("calls", "dashboard", "proposals", "review", "dg_queue")
TARGET_PAGE_RATIO = 5.0
TARGET_WORKFLOW_RATIO = 12.0
TARGET_LETTER_RATIO = 1.15
TARGET_BATCH_SPEEDUP = 1.7
REPEAT_TOLERANCE = 0.2  # percent
# Requests of the literal-method check: enough that the drift of a whole process (0.1-0.2 % of
# 7.7 billion instructions, bench/README.md "Repeatability") stays near 1 % of the difference.
LITERAL_N = 300
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
#: The deadline rush is the reliability drill's: it builds its own database on this server.
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RUSH_TEST = (
    "tests/reliability/test_deadline_rush.py::test_a_deadline_rush_loses_no_submission_and_accepts_none_late"
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def environment() -> dict:
    env = dict(os.environ)
    env.update(
        APP_CONFIG="development",
        FLASK_APP="webapp:create_app",
        INSTANCE_PATH=str(OUT / "instance"),  # own secret key, signing test key, files
        STORAGE_DIR=str(OUT / "instance" / "files"),
        PYTHONHASHSEED="0",  # the same dict and set orders in every process
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("DATABASE_URL", None)
    env.pop("HUEY_REDIS_URL", None)
    return env


def redis_url(env: dict) -> str | None:
    """The Redis database of the job-queue benchmark, if reachable and free of other keys."""
    url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        foreign = [k for k in client.scan_iter(count=100) if b"coop" not in k.lower()]
    except Exception as exc:  # noqa: BLE001 - no Redis: Huey's SQLite storage instead
        log(f"Redis not reachable at {url} ({exc.__class__.__name__}): the job queue runs on SQLite")
        return None
    if foreign:
        raise SystemExit(f"{url} holds keys of something else ({foreign[:3]}...): set BENCH_REDIS_URL")
    return url


# --- running processes -------------------------------------------------------------------------


@dataclass
class Job:
    name: str
    argv: list[str]
    callgrind: str = ""  # "segments" (--instr-atstart=no) or "whole" (the literal method)
    process: subprocess.Popen | None = None
    started: float = 0.0
    seconds: float = 0.0
    result: dict = field(default_factory=dict)

    @property
    def dir(self) -> Path:
        return OUT / "callgrind" / self.name

    def command(self) -> list[str]:
        if not self.callgrind:
            return self.argv
        flags = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={self.dir}/cg.%p"]
        if self.callgrind == "segments":
            flags.append("--instr-atstart=no")
        return flags + self.argv


def run_jobs(jobs: list[Job], env: dict, parallel: int) -> None:
    """Run the jobs, at most ``parallel`` at a time; raise if one fails."""
    waiting, running = list(jobs), []
    while waiting or running:
        while waiting and len(running) < parallel:
            job = waiting.pop(0)
            shutil.rmtree(job.dir, ignore_errors=True)
            job.dir.mkdir(parents=True)
            job.started = time.monotonic()
            job.process = subprocess.Popen(
                job.command(),
                cwd=ROOT,
                env=env,
                stdout=(job.dir / "stdout.log").open("w"),
                stderr=subprocess.STDOUT,
            )
            log(f"started {job.name}")
            running.append(job)
        time.sleep(0.5)
        for job in list(running):
            if job.process.poll() is None:
                continue
            running.remove(job)
            job.seconds = time.monotonic() - job.started
            if job.process.returncode != 0:
                for other in running:  # ours: stop them rather than leave them running
                    other.process.terminate()
                    other.process.wait()
                tail = (job.dir / "stdout.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"{job.name} failed ({job.process.returncode}):\n{tail}")
            if job.callgrind:
                job.result = read_callgrind(job.dir)
            log(f"finished {job.name} in {job.seconds:.0f} s")


def read_callgrind(directory: Path) -> dict:
    """{"dumps": {label: Ir}, "totals": [Ir of each process's final file]}."""
    mains = sorted(p for p in directory.glob("cg.*") if re.fullmatch(r"cg\.\d+", p.name))
    dumps, totals = {}, []
    for main in mains:
        dumps.update(cgreq.read_dumps(main))
        match = re.search(r"^(?:totals|summary): (\d+)", main.read_text(errors="replace"), re.MULTILINE)
        totals.append(int(match.group(1)) if match else None)
    return {"dumps": dumps, "totals": totals}


def mean_dumps(runs: list[dict]) -> dict:
    """The segments' counts averaged over processes that measured the same segments."""
    labels = set.intersection(*(set(run) for run in runs))
    return {label: sum(run[label] for run in runs) / len(runs) for label in labels}


def per_request(dumps: dict, key: str) -> tuple[float, int]:
    """(instructions per request, N) of a key: segment(N) minus segment(0), over N."""
    counts = {int(label.split("n=")[1]): ir for label, ir in dumps.items() if label.split(" n=")[0] == key}
    n = max(counts)
    return (counts[n] - counts[0]) / n, n


# --- the steps ----------------------------------------------------------------------------------


def seed(env: dict) -> dict[str, Path]:
    paths = {}
    for n in SIZES:
        path = OUT / f"scale-{n}.sqlite3"
        log(f"flask seed-scale --n {n}")
        started = time.monotonic()
        subprocess.run(
            [FLASK, "seed-scale", "--n", str(n), "--db", str(path), "--recreate"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        paths[n] = path
        paths[f"seconds-{n}"] = time.monotonic() - started
    letters = OUT / "letters-template.sqlite3"
    subprocess.run(
        [FLASK, "seed-scale", "--n", str(LETTERS_N), "--db", str(letters), "--recreate"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        [PY, "bench/letters.py", "release", "--db", str(letters)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    paths["letters"] = letters
    return paths


def private_copy(source: Path, name: str) -> str:
    """A copy of a data set for one process: every request of the platform opens its transaction
    with BEGIN IMMEDIATE (SQLite's write lock), so two measuring processes on one file would
    wait on each other, and under valgrind beyond the busy timeout."""
    target = OUT / "db" / f"{name}.sqlite3"
    target.parent.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
        if Path(str(source) + suffix).exists():
            shutil.copyfile(str(source) + suffix, str(target) + suffix)
    return str(target)


def instruction_jobs(paths: dict, quick: bool) -> list[Job]:
    def pages(name: str, size: int, *extra: str) -> Job:
        db = private_copy(paths[size], name)
        argv = [PY, "bench/pages.py", "--db", db, "--mode", "callgrind", "--out", str(OUT / f"{name}.json")]
        return Job(name, [*argv, *extra], "segments")

    def letter(side: str) -> Job:
        # Each side issues letters into its own copy of the data set and its own files.
        name = f"letter-{side}"
        argv = [PY, "bench/letters.py", "measure", "--side", side, "--n", "2"]
        argv += ["--db", private_copy(paths["letters"], name), "--storage", str(OUT / f"files-{name}")]
        return Job(name, [*argv, "--out", str(OUT / f"{name}.json")], "segments")

    # The repeat pair first and together (the same code, even in a working tree others edit),
    # then the longest first, so that the two streams finish together.
    # Each figure at N=100 is the mean of two processes (a, b); two more (c, d) repeat it.
    jobs = [pages("pages-100-a", 100), pages("pages-100-b", 100)]
    if not quick:
        jobs += [pages("pages-100-c", 100), pages("pages-100-d", 100)]
    jobs.append(Job("workflows", [PY, "bench/workflow_scale.py", "--sizes", "1000,10000"], "segments"))
    if not quick:
        for n in (LITERAL_N, 0):
            db = private_copy(paths[100], f"subtract-calls-n{n}")
            argv = [PY, "bench/serve_n.py", "--db", db, "--path", "/calls", "--n", str(n)]
            jobs.append(Job(f"subtract-calls-n{n}", argv, "whole"))
    jobs += [letter("letter"), letter("weasyprint")]
    jobs.append(pages("pages-10000-light", 10_000, "--only", ",".join(LIGHT_PAGES)))
    return jobs


def statement_counts(paths: dict, env: dict) -> dict:
    counts = {}
    for n in SIZES:
        out = OUT / f"queries-{n}.json"
        subprocess.run(
            [PY, "bench/pages.py", "--db", str(paths[n]), "--mode", "queries", "--out", str(out)],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        counts[n] = json.loads(out.read_text())["targets"]
    out = OUT / "wall-10000.json"
    subprocess.run(
        [
            PY,
            "bench/pages.py",
            "--db",
            str(paths[10_000]),
            "--mode",
            "wall",
            "--only",
            "ranking,dg_call",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    counts["wall-10000"] = json.loads(out.read_text())["targets"]
    return counts


def wall_benchmarks(paths: dict, env: dict, redis: str | None) -> dict:
    results = {}
    batch_env = dict(env)
    if redis:
        batch_env["HUEY_REDIS_URL"] = redis
    log("letters: a batch of 100 on the job queue, 1 and 2 workers alternated")
    subprocess.run(
        [
            PY,
            "bench/letters_batch.py",
            "--template",
            str(paths["letters"]),
            "--letters",
            "100",
            "--rounds",
            "5",
            "--out",
            str(OUT / "letters-batch.json"),
        ],
        cwd=ROOT,
        env=batch_env,
        check=True,
    )
    results["batch"] = json.loads((OUT / "letters-batch.json").read_text())
    log("HTTP: gunicorn + wrk, platform and bare app alternated")
    subprocess.run(
        [
            PY,
            "bench/http_bench.py",
            "--db",
            str(paths[100]),
            "--rounds",
            "5",
            "--duration",
            "5",
            "--out",
            str(OUT / "http.json"),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    results["http"] = json.loads((OUT / "http.json").read_text())
    results["rush"] = deadline_rush(env)
    return results


def deadline_rush(env: dict) -> dict:
    """tests/reliability's rush drill (300 submitters in the last minute, gunicorn + PostgreSQL),
    run once more for its figures: it writes bench/out/rush.json, then checks every answer and row."""
    url = os.environ.get("BENCH_PG_URL", DEFAULT_PG)
    log("deadline rush: 300 submitters on gunicorn + PostgreSQL (the tests/reliability drill)")
    report = OUT / "rush.json"
    report.unlink(missing_ok=True)
    with (OUT / "rush.log").open("w") as output:
        status = subprocess.run(
            [PY, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", RUSH_TEST],
            cwd=ROOT,
            env=dict(env, TEST_DATABASE_URL=url),
            stdout=output,
            stderr=subprocess.STDOUT,
        ).returncode
    tail = (OUT / "rush.log").read_text(errors="replace").strip().splitlines()[-1:]
    if not report.exists():
        return {"measured": False, "why": " ".join(tail) or f"pytest exited {status}"}
    figures = json.loads(report.read_text())
    return {"measured": True, "checks_passed": status == 0, "summary": " ".join(tail), **figures}


# --- the report ---------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def fmt(n: float) -> str:
    return f"{n / 1e6:,.2f} M"


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def machine() -> dict:
    import sqlite3

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        "?",
    )
    commit = _version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "valgrind": _version(["valgrind", "--version"]),
        "wrk": _version(["wrk", "--version"]),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
    }


def extra_statements(small: list, large: list) -> list[str]:
    """The statements the large data set adds (shape only: parameters collapsed)."""

    def shape(sql: str) -> str:
        return re.sub(r"\(\?(, \?)*\)", "(?...)", sql)[:160]

    remaining = [shape(s) for s, _n in small]
    extra = []
    for sql, n in large:
        if shape(sql) in remaining:
            remaining.remove(shape(sql))
        else:
            extra.append(f"{shape(sql)} [{n} parameters]")
    return extra


def report(data: dict) -> str:  # noqa: PLR0915 - one table after the other
    m, lines = data["machine"], []
    add = lines.append
    add("# Benchmark results")
    add("")
    add(
        f"Measured {data['date']} on `{m['host']}`: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM, "
        f"{m['os']}; Python {m['python']}, SQLite {m['sqlite']}, {m['valgrind']}, {m['wrk']}; commit "
        f"{m['commit']}. Load average {data['load_start'][0]:.1f} at the start, {data['load_end'][0]:.1f} at "
        f"the end (the machine is shared: wall-clock figures below are indicative, instruction counts are "
        f"not affected). Whole run: {data['seconds'] / 60:.1f} min. Produced by `make bench` "
        f"(bench/run.py); raw outputs in bench/out/; method and analysis in bench/README.md."
    )
    add("")
    add(
        "Instruction counts: `valgrind --tool=callgrind`, N requests through the Flask test client minus "
        "none, in one process per data set after a warm-up of every page (bench/cgreq.py, bench/pages.py); "
        "development settings on SQLite, CSRF and rate limits off, `PYTHONHASHSEED=0`."
    )
    add("")

    measured = data["callgrind"]
    runs = {x: measured[f"pages-100-{x}"]["dumps"] for x in "abcd" if f"pages-100-{x}" in measured}
    pages_a = mean_dumps(list(runs.values()))
    add("## Main pages against the bare route (N=100 proposals)")
    add("")
    add("| page | user | instructions / request | bare route, same login | ratio | target | |")
    add("|---|---|---:|---:|---:|---:|---|")
    for page in PAGES:
        cost, n = per_request(pages_a, page.key)
        bare, _ = per_request(pages_a, bare_key(page.user))
        ratio = cost / bare
        target = f"<= {TARGET_PAGE_RATIO:g}x" if page.main else "(extra)"
        mark = (
            verdict(ratio <= TARGET_PAGE_RATIO)
            if page.main
            else ("" if ratio <= TARGET_PAGE_RATIO else "over")
        )
        add(
            f"| {page.label} `{data['paths'][page.key]}` | {page.user} | {fmt(cost)} (N={n}) | {fmt(bare)} | "
            f"{ratio:.1f}x | {target} | {mark} |"
        )
    anon, _ = per_request(pages_a, bare_key("anonymous"))
    add("")
    add('Why the pages miss, and what grows with N: bench/README.md, "What the measures show".')
    add("")
    add(
        "The bare route itself: "
        + ", ".join(
            f"{user} {fmt(per_request(pages_a, bare_key(user))[0])}"
            for user in ("anonymous", "applicant", "reviewer", "manager", "dg")
        )
        + f"; logged in against anonymous: {per_request(pages_a, bare_key('manager'))[0] / anon:.1f}x."
    )
    add("")
    add(f"Each figure is the mean of {len(runs)} measuring processes run alike.")
    if len(runs) == 4:
        first, second = mean_dumps([runs["a"], runs["b"]]), mean_dumps([runs["c"], runs["d"]])

        def worst_gap(x: dict, y: dict) -> tuple[str, float]:
            gaps = {}
            for key in sorted({label.split(" n=")[0] for label in x}):
                one, _ = per_request(x, key)
                two, _ = per_request(y, key)
                gaps[key] = abs(one - two) / min(one, two) * 100
            worst = max(gaps, key=gaps.get)
            return worst, gaps[worst]

        worst, gap = worst_gap(first, second)
        single = max((worst_gap(runs[x], runs[y]) for x, y in ("ab", "cd")), key=lambda wg: wg[1])
        add(
            f"Repeatability: the measure taken twice (processes a and b, then c and d) gives the same count "
            f"per request to within {gap:.3f} % (worst: {worst}; target {REPEAT_TOLERANCE} %): "
            f"{verdict(gap <= REPEAT_TOLERANCE)}. Two single processes differ by up to {single[1]:.3f} % "
            f"({single[0]}; why: bench/README.md, \"Repeatability\")."
        )
    if f"subtract-calls-n{LITERAL_N}" in data["callgrind"]:
        whole = [data["callgrind"][f"subtract-calls-n{n}"]["totals"][0] for n in (0, LITERAL_N)]
        literal = (whole[1] - whole[0]) / LITERAL_N
        segment, _ = per_request(pages_a, "calls")
        gap = (literal - segment) / segment * 100
        add(
            f"The literal method (bench/serve_n.py: a process serving {LITERAL_N} requests to `/calls` "
            f"minus the same process serving none, {fmt(whole[0])} and {fmt(whole[1])} in all) gives "
            f"{fmt(literal)} per request, against {fmt(segment)} from the in-process segments "
            f"({gap:+.2f} %)."
        )
    add("")
    if "pages-10000-light" in data["callgrind"]:
        large = data["callgrind"]["pages-10000-light"]["dumps"]
        add(
            "The same pages at N=10,000 (the ranking and the DG's call page, which list every proposal, "
            "are left out: see the statements and wall time below):"
        )
        add("")
        add("| page | instructions / request at N=100 | at N=10,000 | ratio to the bare route at N=10,000 |")
        add("|---|---:|---:|---:|")
        for page in PAGES:
            if page.key not in LIGHT_PAGES:
                continue
            cost, _ = per_request(large, page.key)
            bare, _ = per_request(large, bare_key(page.user))
            small_cost, _ = per_request(pages_a, page.key)
            add(f"| {page.label} | {fmt(small_cost)} | {fmt(cost)} | {cost / bare:.1f}x |")
        add("")

    queries = data["queries"]
    add("## SQL statements per page (target: the same at N=100 and N=10,000)")
    add("")
    add("| page | N=100 | N=10,000 | |")
    add("|---|---:|---:|---|")
    for key in [bare_key(u) for u in ("anonymous", "manager")] + [p.key for p in PAGES]:
        small, large = queries[100][key], queries[10_000][key]
        label = next((p.label for p in PAGES if p.key == key), f"bare route ({key[5:]})")
        add(
            f"| {label} | {small['statements']} | {large['statements']} | "
            f"{verdict(small['statements'] == large['statements'])} |"
        )
    add("")
    for key in [p.key for p in PAGES]:
        extra = extra_statements(queries[100][key]["sql"], queries[10_000][key]["sql"])
        if extra:
            add(
                f"- {key}: the N=10,000 page adds {len(extra)} statement(s): "
                + "; ".join(f"`{e}`" for e in extra[:3])
                + (" ..." if len(extra) > 3 else "")
            )
    wall = queries["wall-10000"]
    add("")
    add(
        "Pages that list every proposal, at N=10,000, natively (indicative): "
        + "; ".join(
            f"{key} {wall[key]['median_s']:.2f} s per request, "
            f"{queries[10_000][key]['bytes'] / 1e6:.1f} MB of HTML"
            for key in ("ranking", "dg_call")
        )
        + "."
    )
    add("")

    wf = data["callgrind"]["workflows"]["dumps"]
    base = wf["workflows n=0"]
    one, ten = wf["workflows n=1000"] - base, wf["workflows n=10000"] - base
    add("## Consensus and ranking in `workflows` (instructions)")
    add("")
    ok = verdict(ten / one <= TARGET_WORKFLOW_RATIO)
    add(
        f"N=1,000 proposals (3,000 reviews): {fmt(one)}; N=10,000 (30,000 reviews, 7 criteria): {fmt(ten)}; "
        f"ratio {ten / one:.2f} (target <= {TARGET_WORKFLOW_RATIO:g}): {ok}. "
        f"Per proposal: {one / 1000 / 1e6:.2f} M and {ten / 10000 / 1e6:.2f} M instructions."
    )
    add("")

    lt = data["callgrind"]["letter-letter"]["dumps"]
    letter, n = per_request(lt, "letter")
    alone, _ = per_request(data["callgrind"]["letter-weasyprint"]["dumps"], "weasyprint")
    again, _ = per_request(lt, "weasyprint-again")
    signature, _ = per_request(lt, "signature")
    same_html = data["letter_html"]["letter"] == data["letter_html"]["weasyprint"]
    add("## One decision letter against WeasyPrint alone (instructions)")
    add("")
    add(
        "A letter issued as the job queue issues it (data, template, WeasyPrint PDF/A-2b, pyHanko "
        f"signature, file and row, audit, commit): {fmt(letter)} per letter (N={n}: awarded, rejected); "
        "WeasyPrint alone rendering the HTML of the same letters to the same PDF/A-2b, in a second "
        f"process with the same warm-up, where they had not been rendered either: {fmt(alone)}; "
        f"ratio {letter / alone:.3f}x (target <= {TARGET_LETTER_RATIO}x): "
        f"{verdict(letter / alone <= TARGET_LETTER_RATIO)}."
        + ("" if same_html else " **The two processes rendered different HTML: the ratio is not valid.**")
    )
    add(
        f"Of the {fmt(letter - alone)} a letter costs beyond WeasyPrint, the PAdES signature alone "
        f"(pyHanko signing the same PDF) is {fmt(signature)} ({signature / alone:.1%} of WeasyPrint's "
        f"count); the rest (data, template, file, row, audit, commit) {fmt(letter - alone - signature)} "
        f"({(letter - alone - signature) / alone:.1%})."
    )
    add(
        f"WeasyPrint rendering the same HTML again in the letter's process costs {fmt(again)}: a first "
        f"rendering costs {fmt(alone - again)} more ({(alone - again) / again:+.1%}), WeasyPrint's and "
        "Pango's caches of text already laid out. The first method compared a first rendering (the "
        f"letter) with a second one (WeasyPrint alone): {letter / again:.3f}x by that measure."
    )
    add("")

    if "wall" in data:
        batch, http = data["wall"]["batch"], data["wall"]["http"]
        add("## A batch of 100 letters on the job queue: two workers against one (wall time)")
        add("")
        runs = ", ".join(f"{r['workers']}w {r['seconds']:.1f} s" for r in batch["runs"])
        loads = ", ".join(f"{r['load'][0]:.1f}" for r in batch["runs"])
        per_round = ", ".join(f"{r:.2f}" for r in batch["per_round"])
        round_median = statistics.median(batch["per_round"])
        add(
            f"Huey on {batch['queue']}, process workers, runs alternated ({runs}). Median "
            f"{batch['median_one']:.1f} s with one worker, {batch['median_two']:.1f} s with two: speedup "
            f"{batch['speedup']:.2f}x (per round {per_round}, median {round_median:.2f}; target >= "
            f"{TARGET_BATCH_SPEEDUP}x): "
            f"{verdict(batch['speedup'] >= TARGET_BATCH_SPEEDUP)}. Load average during the runs: "
            f"{loads} ({os.cpu_count()} cores)."
        )
        add("")
        add("## Throughput over HTTP (wall time)")
        add("")
        add(
            f"gunicorn ({' '.join(http['settings'][:6])}) serving the platform (`webapp:create_app()`, "
            f"{http['database']}, N=100) on `{http['path']}` and a bare Flask app served the same way; "
            f"`wrk {http['wrk']}` from a second process on loopback, the two alternated over "
            f"{len(http['rounds'])} rounds. Median platform {http['median_platform_rps']:.0f} req/s, bare "
            f"{http['median_bare_rps']:.0f} req/s: the bare app serves {http['median_ratio']:.1f}x as many "
            f"requests (spread {http['min_ratio']:.1f}-{http['max_ratio']:.1f}x over the rounds; no target)."
        )
        add("")
    add("## Deadline rush (gunicorn + PostgreSQL, wall time)")
    add("")
    rush = data.get("wall", {}).get("rush")
    if not rush:
        add("Not run (`--skip-wall`).")
    elif not rush["measured"]:
        add(f"Not measured: {rush['why']} (PostgreSQL at `BENCH_PG_URL`, default {DEFAULT_PG}).")
    else:
        add(rush_report(rush))
    add("")
    return "\n".join(lines)


def rush_report(rush: dict) -> str:
    lat, server, stored = rush["latency"], rush["server"], rush.get("stored")
    statuses = ", ".join(f"{code}: {count}" for code, count in rush["status_counts"].items())
    five = sum(count for code, count in rush["status_counts"].items() if code.startswith("5"))

    def pct_of(x: dict) -> str:
        return f"p50 {x['p50_ms']:.0f} / p95 {x['p95_ms']:.0f} ms"

    def pct(key: str) -> str:
        x = lat[key]
        return (
            f"p50 {x['p50_ms']:.0f} / p95 {x['p95_ms']:.0f} / p99 {x['p99_ms']:.0f} ms "
            f"(max {x['max_ms']:.0f}, n={x['n']})"
        )

    lines = [
        f"`{RUSH_TEST.split('::')[1]}` (tests/reliability), run by this benchmark: "
        f"{rush['submitters']} submitters over one minute against gunicorn ({server['worker_class']}, "
        f"{server['workers']} workers x {server['threads']} threads, {server['config']} settings) on "
        f"PostgreSQL, the deadline {rush['deadline_after_seconds']} s into the rush "
        f"({rush['grace_minutes']} min grace), {rush['planned_late']} of them clicking after it; "
        f"{rush['logins_over_http']} log in and {rush['uploads_over_http']} upload a document over "
        "HTTP first.",
        "",
        "| measure | figure | target | |",
        "|---|---:|---:|---|",
        f"| submissions accepted / refused as late | {rush['accepted']} / {rush['refused']} | | |",
        f"| answers 5xx (of {rush['requests']} requests) | {five} | 0 | {verdict(five == 0)} |",
        f"| requests with no answer | {rush['no_answer']} | 0 | {verdict(rush['no_answer'] == 0)} |",
    ]
    if stored:
        late = stored["received_after_deadline_and_grace"]
        lines += [
            f"| accepted but not stored (lost) | {stored['lost']} | 0 | {verdict(stored['lost'] == 0)} |",
            f"| stored twice | {stored['duplicated']} | 0 | {verdict(stored['duplicated'] == 0)} |",
            f"| received after the deadline and grace, stored | {late} | 0 | {verdict(late == 0)} |",
            f"| refused but stored | {stored['stored_but_refused']} | 0 | "
            f"{verdict(stored['stored_but_refused'] == 0)} |",
        ]
    lines += [
        "",
        f"Latency: submit {pct('submit')}; upload {pct('upload')}; login {pct('login')}; every request "
        f"{pct('all')}. Statuses: {statuses}. Answered before the deadline: "
        f"{rush['answered_before_deadline']}; sent before it and answered after: "
        f"{rush['sent_before_answered_after_deadline']} (judged on their arrival); sent after it: "
        f"{rush['sent_after_deadline']}, {rush['planned_late']} by plan and the rest because the clicks "
        f"left late (click delay {pct_of(rush['click_delay'])}). Server CPU "
        f"{rush['machine']['server_cpu_seconds']} s ({rush['machine']['server_cpu_ms_per_submitter']} ms per "
        f"submitter); load average {rush['machine']['load_average_before'][0]} before, "
        f"{rush['machine']['load_average_after'][0]} after (client and server share the 2 cores). "
        f"The drill's own checks (every answer, every row and file): "
        f"{'passed' if rush['checks_passed'] else 'FAILED: ' + rush['summary']}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2, help="callgrind processes at a time")
    parser.add_argument("--quick", action="store_true", help="skip the repeat and literal-method checks")
    parser.add_argument("--skip-wall", action="store_true", help="skip the wall-clock benchmarks")
    args = parser.parse_args()
    started = time.monotonic()
    for tool in ("valgrind", "wrk"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install valgrind wrk (make bench does it)")
    OUT.mkdir(parents=True, exist_ok=True)
    env = environment()
    data = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_start": os.getloadavg(),
    }
    redis = None if args.skip_wall else redis_url(env)
    paths = seed(env)
    data["seed_seconds"] = {n: paths[f"seconds-{n}"] for n in SIZES}
    jobs = instruction_jobs(paths, args.quick)
    run_jobs(jobs, env, args.jobs)
    data["callgrind"] = {job.name: {**job.result, "seconds": job.seconds} for job in jobs}
    data["letter_html"] = {
        side: json.loads((OUT / f"letter-{side}.json").read_text())["html_sha256"]
        for side in ("letter", "weasyprint")
    }
    data["paths"] = json.loads((OUT / "pages-100-a.json").read_text())["targets"]
    data["paths"] = {key: value["path"] for key, value in data["paths"].items()}
    log("statements per page at N=100 and N=10,000")
    data["queries"] = statement_counts(paths, env)
    if not args.skip_wall:
        data["wall"] = wall_benchmarks(paths, env, redis)
    data["load_end"] = os.getloadavg()
    data["seconds"] = time.monotonic() - started
    (OUT / "results.json").write_text(json.dumps(data, indent=1, default=str))
    (BENCH / "RESULTS.md").write_text(report(data))
    log(f"bench/RESULTS.md written ({data['seconds'] / 60:.1f} min)")


if __name__ == "__main__":
    main()
