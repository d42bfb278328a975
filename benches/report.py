"""Renders `make bench`'s figures: first every performance target with its result on each
database (SQLite, where the targets apply, and Postgres beside it), then the raw wrk runs."""

import os
import platform

ME = "GET /api/v1/users/me"
HEALTH = "GET /api/health"
SIGNIN = "POST /api/v1/auth/signin"
MIB = 1024
# benches/scale.py's label, repeated so the report needs no import of the seeding.
SCALE_LABEL = "1M users, 5M refresh tokens"


def verdict(ok):
    return "✅" if ok else "❌"


def check(figure, ok):
    """A result cell: the figure and whether it meets the target."""
    return f"{figure} {verdict(ok)}"


def ratio(result, scenario):
    return result["rows"][scenario]["rate"] / result["rows"][HEALTH]["rate"]


def me_line(backend, result):
    row, share = result["rows"][ME], ratio(result, ME)
    floor = 0.40 if backend == "SQLite" else 0.25
    ok = share >= floor and row["p99"] <= 5 and row["errors"] == 0
    if backend == "SQLite":
        ok = ok and row["rate"] >= 15000
    return check(f"{row['rate']:.0f}/s = {share:.0%} of health, p99 {row['p99']:.2f} ms", ok)


def flood_line(scenario):
    def line(_backend, result):
        row = result["rows"][scenario]
        return check(f"p99 {row['p99']:.2f} ms ({row['rate']:.0f}/s)", row["p99"] <= 10 and row["errors"] == 0)
    return line


def memory_line(key, limit_mib):
    def line(_backend, result):
        mib = result[key] / MIB
        return check(f"{mib:.1f} MiB", mib <= limit_mib)
    return line


def sockets_line(_backend, result):
    sockets = result["sockets"]
    added = (sockets["after_kib"] - sockets["before_kib"]) / MIB
    return check(f"+{added:.1f} MiB for {sockets['sockets']} sockets "
                 f"({sockets['before_kib'] / MIB:.1f} → {sockets['after_kib'] / MIB:.1f} MiB)",
                 added <= 100 and sockets["sockets"] >= 10000)


def fanout_line(_backend, result):
    fanout = result.get("fanout")
    if fanout is None:
        return "— (one instance)"
    ok = fanout["p99_ms"] <= 250 and fanout["missing"] == 0 and fanout["sockets"] >= 1000
    return check(f"p99 {fanout['p99_ms']:.0f} ms, p50 {fanout['p50_ms']:.0f} ms, max {fanout['max_ms']:.0f} ms "
                 f"({fanout['samples']:.0f} deliveries over {fanout['instances']} instances, "
                 f"{fanout['missing']:.0f} missing)", ok)


def scale_line(scenario, with_p99):
    """A scale line: the seeded database's figures beside the empty one's, within 10 %."""
    def line(_backend, result):
        empty, seeded = result["rows"][scenario], result["scale_rows"][f"{scenario}, {SCALE_LABEL}"]
        ok = seeded["rate"] >= 0.9 * empty["rate"] and seeded["errors"] == 0
        figure = f"{seeded['rate']:.0f}/s vs {empty['rate']:.0f}/s ({seeded['rate'] / empty['rate']:.0%})"
        if with_p99:
            ok = ok and seeded["p99"] <= 1.1 * empty["p99"]
            figure += f", p99 {seeded['p99']:.2f} vs {empty['p99']:.2f} ms ({seeded['p99'] / empty['p99']:.0%})"
        return check(figure + f"; seeded in {result['seed_s']:.0f} s", ok)
    return line


def spec_lines():
    """The performance targets, one by one: (figure, target, how to read a backend's result,
    whether Postgres is held to it: Postgres must meet the `/users/me` lines, and the fan-out line
    is about Postgres; every other Postgres figure is printed for information)."""
    def signin(_backend, result):
        rate, bound = result["rows"][SIGNIN]["rate"], result["bound"]
        return check(f"{rate:.0f}/s = {rate / bound:.0%} of the bound ({bound:.0f}/s)", rate >= 0.8 * bound)

    def upload(_backend, result):
        row = result["rows"]["PUT avatar, 2-MP JPEG, one at a time"]
        return check(f"p50 {row['p50']:.0f} ms", row["p50"] <= 150 and row["errors"] == 0)

    def ready(_backend, result):
        return check(f"{result['ready_ms']:.0f} ms", result["ready_ms"] <= 200)

    return [
        ("`GET /users/me`, 32 connections", "≥ 40 % of health (Postgres ≥ 25 %), SQLite ≥ 15,000/s; p99 ≤ 5 ms",
         me_line, True),
        ("`POST /auth/signin`, 16 connections", "≥ 80 % of the Argon2 bound", signin, False),
        ("`/users/me` while signin is saturated", "p99 ≤ 10 ms", flood_line("GET /users/me during signin flood"), True),
        ("`/users/me` while avatar uploads are saturated", "p99 ≤ 10 ms",
         flood_line("GET /users/me during avatar upload flood"), True),
        ("`/users/me` while password-reset requests are saturated", "p99 ≤ 10 ms",
         flood_line("GET /users/me during forgot-password flood"), True),
        ("resident memory, idle", "≤ 20 MiB", memory_line("idle_kib", 20), False),
        ("resident memory, peak under the signin flood", "≤ 150 MiB", memory_line("peak_kib", 150), False),
        ("resident memory, peak under the avatar-upload flood", "≤ 150 MiB", memory_line("upload_peak_kib", 150), False),
        ("ready after start (binary in the page cache)", "≤ 200 ms", ready, False),
        ("10,000 open event sockets", "add ≤ 100 MiB", sockets_line, False),
        ("an event to 1,000 sockets of one user on two instances (Postgres)", "p99 ≤ 250 ms", fanout_line, True),
        ("avatar upload, 2-MP JPEG, one at a time", "p50 ≤ 150 ms", upload, False),
        (f"`GET /users/me`, {SCALE_LABEL} (seeded vs empty)", "requests/s and p99 within 10 %",
         scale_line(ME, True), True),
        (f"`POST /auth/signin`, {SCALE_LABEL} (seeded vs empty)", "signins/s within 10 %",
         scale_line(SIGNIN, False), False),
    ]


def informational(cell):
    """A Postgres figure printed beside SQLite's, without a verdict: it has no target."""
    return cell.removesuffix(verdict(True)).removesuffix(verdict(False)).rstrip() + " (information)"


def render(results, duration):
    """The report as Markdown, and the performance targets (per database) that were missed."""
    cores = os.cpu_count()
    backends = list(results)
    lines = [
        f"Machine: {platform.machine()}, {cores} cores, {platform.platform()}; "
        f"release build; wrk 1 thread; {duration} s per run; per-IP limits off; log level warn.",
        "",
        "Argon2 bound: cores ÷ the time of one signin verification on one idle thread "
        "(benches/tools/argon2_bound.rs), measured just before each database's signin run, since this "
        "machine's speed drifts: " + "; ".join(
            f"{backend} {result['single_ms']:.1f} ms, so {cores} cores allow {result['bound']:.1f} signins/s"
            for backend, result in results.items()) + ".",
        "The performance targets are stated for SQLite; Postgres (on the same 2 cores as Warren and the "
        "load generators) is held to the same `/users/me` lines, with ≥ 25 % of health, and to "
        "the fan-out line; its other figures are printed for information.",
        "",
        "| figure | target | " + " | ".join(backends) + " |",
        "|---|---|" + "---|" * len(backends),
    ]
    missed = []
    for figure, target, read, postgres_held in spec_lines():
        cells = [read(backend, results[backend]) for backend in backends]
        cells = [cell if backend == "SQLite" or postgres_held else informational(cell)
                 for backend, cell in zip(backends, cells)]
        missed += [f"{figure} ({backend})" for backend, cell in zip(backends, cells) if cell.endswith(verdict(False))]
        lines.append(f"| {figure} | {target} | " + " | ".join(cells) + " |")
    lines += ["", "| wrk run | database | requests/s | vs health | p50 ms | p99 ms | errors |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for backend, result in results.items():
        for scenario, row in result["rows"].items():
            lines.append(
                f"| {scenario} | {backend} | {row['rate']:.0f} | {ratio(result, scenario):.0%} | {row['p50']:.2f} "
                f"| {row['p99']:.2f} | {row['errors']} |"
            )
        for scenario, row in result.get("scale_rows", {}).items():
            lines.append(
                f"| {scenario} | {backend} | {row['rate']:.0f} | {row['rate'] / result['rows'][HEALTH]['rate']:.0%} "
                f"| {row['p50']:.2f} | {row['p99']:.2f} | {row['errors']} |"
            )
    lines += ["", "| wrong-password signin, median | database | known email | unknown email | ratio | similar (0.5–2) |",
              "|---|---|---:|---:|---:|---|"]
    for backend, result in results.items():
        known, unknown = result["timing"]["known"], result["timing"]["unknown"]
        lines.append(f"| known vs unknown email | {backend} | {known:.1f} ms | {unknown:.1f} ms "
                     f"| {unknown / known:.2f} | {verdict(0.5 <= unknown / known <= 2)} |")
    lines.append("")
    lines.append("Resident memory after all runs: " + ", ".join(
        f"{backend} {result['after_kib'] / MIB:.1f} MiB" for backend, result in results.items()) + ".")
    return "\n".join(lines) + "\n", missed
