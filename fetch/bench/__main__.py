"""``python -m fetch.bench``: the scale benchmark of issue 8 (``make bench``). Not a test.

For each size (default 1,000 and 20,000 posts; ``--sizes 1000,20000,100000``):

1. a synthetic archive (``fetch.bench.generator``) in ``OUT/work/n<size>/`` beside a copy of the
   project's ``mkdocs.yml``, ``docs/`` and ``overrides/``, with a config whose three Mastodon
   accounts point at a demo server (``fetch.demo.server``) started for this size; a first
   fetch (not timed) takes the demo posts, as a city's first run would;
2. a cold ``aushang build`` in a subprocess: wall time and peak memory;
3. the built site from disk: HTML per post, site size against GitHub Pages' 1 GB, media bytes
   per image, bytes of the home page and of one search;
4. two hourly runs (``aushang fetch`` then ``aushang build``, each a subprocess as in CI): with
   nothing new, then with 5 new posts added to the demo server; images decoded in each, counted
   from the media index (one entry per ``process_image``);
5. yardsticks on the same pages: python-markdown + Jinja2 in 1 and 2 processes; Material's blog
   plugin up to ``BLOG_LIMIT`` posts; Zensical on the generated ``build/mkdocs.yml``;

Prints the tables and writes them to ``OUT/bench.json`` and ``OUT/bench.md`` (default
``build/bench``). Set-up (generation, first fetch) is reported but not part of any figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ..demo.server import DemoServer
from . import generator, measure
from .yardstick import write_blog_project

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZES = (1_000, 20_000)
BLOG_LIMIT = 5_000  # the blog plugin is quadratic: 5,000 posts took 132 s, 20,000 would take hours
BLOG_TIMEOUT = 1_800.0
ZENSICAL_TIMEOUT = 1_800.0
BUILD_TIMEOUT = 3_600.0
DEFAULT_ZENSICAL = "/tmp/zensical-venv/bin/zensical"  # noqa: S108 (where issue 8 installs it)
DEMO_ACCOUNTS = (
    ("stadt", "Stadt Musterstadt"),
    ("feuerwehr", "Feuerwehr Musterstadt"),
    ("buecherei", "Stadtbücherei Musterstadt"),
)
# Not copied into a benchmark project: our code, outputs, caches, the real archive.
SKIP_TOP_LEVEL = frozenset(
    {"fetch", "tests", "build", "site", "demo", "archive", "aushang.yml", "Makefile"}
)


def _search_cell(search: dict[str, Any] | None) -> str:
    if not search or not search.get("raw_bytes"):
        return "–"
    return f"{_kb(search['raw_bytes'])} ({_kb(search['wire_bytes'])})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fetch.bench", description="Aushang's scale benchmark (issue 8)."
    )
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="comma-separated archive sizes in posts (default 1000,20000; add 100000 for the "
        "decade, which takes about half an hour)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--pool-size", type=int, default=generator.POOL_SIZE)
    parser.add_argument(
        "--zensical",
        default=DEFAULT_ZENSICAL,
        help="the zensical command (install it into its own venv); '' skips",
    )
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"what to measure, comma-separated (default all: {','.join(PARTS)})",
    )
    parser.add_argument(
        "--table-from", type=Path, metavar="JSON", help="print the tables of an earlier run"
    )
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="run from a copy of the code and site files taken now (OUT/snapshot): other "
        "work on the tree cannot change what is measured half-way",
    )
    args = parser.parse_args(argv)
    if args.snapshot and not os.environ.get(SNAPSHOT_MARK):
        run_from_snapshot(args.out.resolve(), argv if argv is not None else sys.argv[1:])
    if args.table_from:
        print(render_markdown(json.loads(args.table_from.read_text(encoding="utf-8"))))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "started": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "code": os.environ.get(SNAPSHOT_MARK) or str(ROOT),
        "machine": _machine(),
        "sizes": [],
    }
    for size in sizes:
        print(f"== {size} posts", file=sys.stderr, flush=True)
        row = bench_size(size, out, args)
        results["sizes"].append(row)
        _write(out, results)  # after each size: a long run leaves what it has measured
    print(render_markdown(results))
    return 0


PARTS = ("build", "yardstick", "blog", "zensical")


def export_markdown(config_path: Path, target: Path) -> int:
    """Every page of the site as Markdown with front matter (what another generator reads):
    the project's pages as ``aushang build`` fills them, and the generated pages. The
    yardstick, the blog plugin and Zensical build these, so all build the same pages."""
    from ..config import load_config
    from ..site.build import load_posts, site_context
    from ..site.render import render_site
    from ..site.shell import FRAME_DIR
    from ..site.status import status_pages

    config = load_config(config_path)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(config_path.parent / "build" / "docs", target)
    shutil.rmtree(target / FRAME_DIR, ignore_errors=True)
    posts = load_posts(config)
    files = render_site(posts, site_context(config))
    files.update(status_pages(config, Counter(post.account for post in posts)))
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return len(files)


SNAPSHOT_MARK = "AUSHANG_BENCH_SNAPSHOT"


def run_from_snapshot(out: Path, argv: list[str]) -> None:
    """Copy ``fetch/`` and the project's site files to OUT/snapshot and run the bench there."""
    snapshot = out / "snapshot"
    shutil.rmtree(snapshot, ignore_errors=True)
    shutil.copytree(
        ROOT / "fetch", snapshot / "fetch", ignore=shutil.ignore_patterns("__pycache__")
    )
    prepare_project(snapshot / "project")
    for entry in (snapshot / "project").iterdir():
        entry.rename(snapshot / entry.name)
    (snapshot / "project").rmdir()
    arguments, skip = [], False
    for argument in argv:  # --out made absolute: the snapshot runs in another folder
        if skip or argument == "--snapshot":
            skip = False
            continue
        if argument == "--out":
            skip = True
            continue
        if not argument.startswith("--out="):
            arguments.append(argument)
    arguments += ["--out", str(out)]
    environment = {**os.environ, "PYTHONPATH": str(snapshot), SNAPSHOT_MARK: str(snapshot)}
    print(f"running from the snapshot in {snapshot}", file=sys.stderr, flush=True)
    os.chdir(snapshot)
    os.execve(sys.executable, [sys.executable, "-m", "fetch.bench", *arguments], environment)  # noqa: S606 (our own interpreter)


def bench_size(size: int, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    parts = set(args.parts.split(","))
    work = out / "work" / f"n{size}"
    row: dict[str, Any] = {"posts": size, "parts": sorted(parts)}
    prepare_project(work)
    started = time.monotonic()
    row["archive"] = generator.generate_archive(
        work / "archive", size, out / f"pool-{args.pool_size}", pool_count=args.pool_size
    )
    row["generate_seconds"] = time.monotonic() - started
    if "build" in parts:
        with DemoServer() as server:
            config = write_config(work, server.url)
            bench_build(row, work, config, server)
    else:
        config = write_config(work, "http://127.0.0.1:9")  # never fetched from
    docs = work / "build" / "docs-md"
    if parts & {"yardstick", "blog", "zensical"} and (work / "build" / "docs").is_dir():
        export_markdown(config, docs)
    if "yardstick" in parts and docs.is_dir():
        for processes in (1, 2):
            _log(size, f"yardstick, {processes} process(es)")
            result = measure.run_child(
                [sys.executable, "-m", "fetch.bench.yardstick", str(docs), str(work / "yardstick")]
                + ["--processes", str(processes)],
                cwd=ROOT,
            )
            _check(result, "yardstick")
            data = json.loads(result.stdout)
            row[f"yardstick_{processes}p"] = {
                "seconds": result.seconds,
                "pages": data["pages"],
                "max_rss": result.max_rss,
            }
    if "blog" in parts and docs.is_dir():
        row["blog_plugin"] = blog_plugin(work, size)
    if "zensical" in parts and docs.is_dir():
        row["zensical"] = zensical(work, args.zensical)
    return row


def bench_build(row: dict[str, Any], work: Path, config: Path, server: DemoServer) -> None:
    """Cold build, the built site's sizes, and the two hourly runs."""
    size = row["posts"]
    prime = cli(config, "fetch")
    _check(prime, "first fetch")
    row["first_fetch_seconds"] = prime.seconds
    for folder in ("build", "site"):
        shutil.rmtree(work / folder, ignore_errors=True)
    _log(size, "cold build")
    cold = cli(config, "build", timeout=BUILD_TIMEOUT)
    row["cold_build"] = _outcome(cold, "cold build")
    site = work / "site"
    row["site"] = measure.site_sizes(site)
    row["media_per_image"] = measure.media_bytes_per_image(site)
    row["home"] = measure.home_page_bytes(site)
    row["search"] = measure.search_bytes(site)
    row["search_all_years"] = measure.search_bytes(site, scope="alle")
    _log(size, "hourly runs")
    row["hourly_nothing_new"] = hourly(config, work)
    add_new_posts(server, 5)
    row["hourly_5_new"] = hourly(config, work)


def _log(size: int, what: str) -> None:
    print(f"   {size}: {what}", file=sys.stderr, flush=True)


def _outcome(result: measure.ChildResult, what: str) -> dict[str, Any]:
    """Time and memory of a build; a build that failed after writing the site (a check at the
    end) is still measured, with its error kept beside the figures."""
    answer: dict[str, Any] = {"seconds": result.seconds, "max_rss": result.max_rss}
    if not result.ok:
        answer["error"] = result.tail(6)
        print(f"   {what} failed (exit {result.returncode}): {answer['error']}", file=sys.stderr)
    return answer


def _check(result: measure.ChildResult, what: str) -> None:
    if not result.ok:
        raise SystemExit(f"{what} failed (exit {result.returncode}):\n{result.tail(30)}")


# -- the project ------------------------------------------------------------------------------
def prepare_project(work: Path) -> None:
    """A fresh city project: the repository's site files, no archive, no build."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for entry in sorted(ROOT.iterdir()):
        if entry.name.startswith(".") or entry.name in SKIP_TOP_LEVEL:
            continue
        if entry.name.endswith(".egg-info") or entry.suffix in (".md", ".toml", ".cfg", ".txt"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, work / entry.name)
        else:
            shutil.copy2(entry, work / entry.name)


def write_config(work: Path, server_url: str) -> Path:
    accounts = [
        {
            "key": key,
            "platform": "mastodon",
            "name": name,
            "instance": "musterstadt.social",
            "handle": key,
            "api_base": f"{server_url}/mastodon/musterstadt.social",
        }
        for key, name in DEMO_ACCOUNTS
    ]
    data = {
        "city": "Musterstadt",
        "site": {
            "title": "Aushang Musterstadt",
            "url": "https://aushang.musterstadt.de/",
            "language": "de",
            "timezone": "Europe/Berlin",
            "posts_per_page": 20,
        },
        "archive_dir": "archive",
        "site_dir": "site",
        "fetch": {"retries": 2, "max_wait": 5, "timeout": 20},
        "accounts": accounts,
        "legal": {"impressum": "Stadt Musterstadt, Rathausplatz 1, 12345 Musterstadt"},
    }
    path = work / "aushang.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def cli(config: Path, command: str, *, timeout: float | None = None) -> measure.ChildResult:
    """``aushang --config CONFIG COMMAND`` in its own process, as the hourly job runs it."""
    return measure.run_child(
        [sys.executable, "-m", "fetch.cli", "--config", str(config), command],
        cwd=config.parent,
        timeout=timeout,
    )


def hourly(config: Path, work: Path) -> dict[str, Any]:
    before = measure.media_index_snapshot(work / "archive" / "media")
    fetched = cli(config, "fetch")
    _check(fetched, "hourly fetch")
    built = cli(config, "build", timeout=BUILD_TIMEOUT)
    outcome = _outcome(built, "hourly build")
    after = measure.media_index_snapshot(work / "archive" / "media")
    return {
        **({"error": outcome["error"]} if "error" in outcome else {}),
        "seconds": fetched.seconds + built.seconds,
        "fetch_seconds": fetched.seconds,
        "build_seconds": built.seconds,
        "max_rss": max(fetched.max_rss, built.max_rss),
        "images_decoded": measure.decodes_between(before, after),
        "fetch_summary": fetched.stdout.strip().splitlines(),
    }


def add_new_posts(server: DemoServer, count: int) -> None:
    """``count`` new posts on the demo server, newer than everything; every other has a photo."""
    now = datetime.now(UTC).replace(microsecond=0)
    base = 112_500_000_000_000_000 + int(now.timestamp()) % 1_000_000 * 100
    for number in range(count):
        post: dict[str, Any] = {
            "id": str(base + number),
            "at": now.isoformat().replace("+00:00", "Z"),
            "lang": "de",
            "text": f"Neu im Aushang ({number + 1}): Die Stadtwerke informieren über die "
            "Arbeiten in der Ringstraße. https://www.musterstadt.de/aktuelles?utm_source=masto "
            "#Baustelle",
        }
        if number % 2 == 0:
            post["images"] = [{"seed": f"bench-new-{base}-{number}", "alt": "Baustelle"}]
        server.mastodon.add_post(DEMO_ACCOUNTS[number % len(DEMO_ACCOUNTS)][0], post)


# -- comparisons ------------------------------------------------------------------------------
def blog_plugin(work: Path, size: int) -> dict[str, Any]:
    if size > BLOG_LIMIT:
        return {"skipped": f"above {BLOG_LIMIT} posts (quadratic: hours)"}
    folder = work / "blog"
    count = write_blog_project(work / "archive", work / "build" / "docs-md", folder)
    _log(size, f"material blog plugin, {count} posts")
    result = measure.run_child(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(folder / "mkdocs.yml")],
        cwd=folder,
        timeout=BLOG_TIMEOUT,
    )
    if not result.ok:
        return {"failed": result.tail(5), "seconds": result.seconds, "timed_out": result.timed_out}
    return {"seconds": result.seconds, "max_rss": result.max_rss, "posts": count}


def zensical(work: Path, command: str) -> dict[str, Any]:
    if not command or not Path(command).exists():
        return {"skipped": f"zensical not installed ({command or 'switched off'})"}
    source = work / "build" / "mkdocs.yml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    # Zensical 0.0.x panics on absolute paths ("invariant: Id(Format(Path(RootDir)))") and
    # wants site_dir inside the config's folder: the same config with paths relative to work/.
    data["site_dir"] = "zensical-site"
    data["docs_dir"] = os.path.relpath(work / "build" / "docs-md", work)
    theme = data.get("theme") or {}
    if theme.get("custom_dir"):
        theme["custom_dir"] = os.path.relpath(theme["custom_dir"], work)
    config = work / "zensical.yml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    shutil.rmtree(work / "zensical-site", ignore_errors=True)
    _log(0, "zensical build")
    environment = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    result = measure.run_child(
        [command, "build", "--clean", "-f", str(config)],
        cwd=work,
        env=environment,
        timeout=ZENSICAL_TIMEOUT,
    )
    pages = sum(1 for _ in (work / "zensical-site").rglob("*.html"))
    answer: dict[str, Any] = {
        "seconds": result.seconds,
        "max_rss": result.max_rss,
        "exit": result.returncode,
        "timed_out": result.timed_out,
        "html_pages": pages,
        "output_tail": result.tail(8),
        "post_markup": _has_post_markup(work / "zensical-site"),
    }
    answer["ok"] = result.ok and pages > 0
    return answer


def _has_post_markup(site: Path) -> bool:
    """Whether Zensical's pages carry our posts (not just an empty frame)."""
    for page in (site / "beitrag").rglob("index.html") if (site / "beitrag").is_dir() else []:
        return "aushang-post" in page.read_text(encoding="utf-8")
    return False


# -- output -----------------------------------------------------------------------------------
def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _write(out: Path, results: dict[str, Any]) -> None:
    (out / "bench.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (out / "bench.md").write_text(render_markdown(results), encoding="utf-8")


def _kb(value: float) -> str:
    return f"{value / 1024:,.1f}"


def _mb(value: float) -> str:
    return f"{value / 1_048_576:,.0f}"


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def _get(row: dict[str, Any], *keys: str) -> Any:
    """``row[k1][k2]...`` or None where a part was not measured."""
    value: Any = row
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _cell(value: Any, form: Any) -> str:
    return "–" if value is None else str(form(value))


def table_rows(results: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """The tables' cells as text, one row per size (the JSON keeps the raw numbers).

    A dash marks what was not measured at that size (``--parts``) and says so in the JSON.
    """
    main_rows, compare_rows = [], []
    for row in results["sizes"]:
        posts = row["posts"]
        site = row.get("site")
        if site is not None:
            main_rows.append(
                {
                    "Beiträge": f"{posts:,}",
                    "HTML-Seiten": f"{site['html_files']:,}",
                    "Kalt-Build s": _s(row["cold_build"]["seconds"]),
                    "Spitze MB": _mb(row["cold_build"]["max_rss"]),
                    "Stündlich, nichts neu s": _s(row["hourly_nothing_new"]["seconds"]),
                    "Stündlich, 5 neu s": _s(row["hourly_5_new"]["seconds"]),
                    "Bilder dekodiert (0/5 neu)": f"{row['hourly_nothing_new']['images_decoded']}"
                    f"/{row['hourly_5_new']['images_decoded']}",
                    "HTML/Beitragsseite KB": _kb(site["post_page_bytes_avg"]),
                    "HTML gesamt/Beitrag KB": _kb(site["html_bytes"] / max(1, site["post_pages"])),
                    "Site MB (% von 1 GB)": f"{_mb(site['site_bytes'])} "
                    f"({100 * site['pages_limit_share']:.0f} %)",
                    "Medien/Bild KB": _kb(row["media_per_image"]["mean"]),
                    "Startseite KB (gzip)": f"{_kb(row['home']['raw_bytes'])} "
                    f"({_kb(row['home']['wire_bytes'])})",
                    "Eine Suche KB (gzip)": f"{_kb(row['search']['raw_bytes'])} "
                    f"({_kb(row['search']['wire_bytes'])})",
                    "Suche alle Jahre KB (gzip)": _search_cell(row.get("search_all_years")),
                }
            )
        build = _get(row, "cold_build", "seconds")
        yard1 = _get(row, "yardstick_1p", "seconds")
        blog = row.get("blog_plugin") or {}
        zen = row.get("zensical") or {}
        if "blog_plugin" not in row:
            blog_cell = "–"
        elif "skipped" in blog:
            blog_cell = "übersprungen (> 5.000)"
        elif "failed" in blog:
            blog_cell = f"Fehler ({_s(blog.get('seconds'))})"
        else:
            blog_cell = _s(blog["seconds"])
        if "zensical" not in row:
            zen_cell = "–"
        elif "skipped" in zen:
            zen_cell = "nicht installiert"
        elif zen.get("ok"):
            zen_cell = _s(zen["seconds"])
        else:
            zen_cell = f"Fehler ({_s(zen['seconds'])})"
        compare_rows.append(
            {
                "Beiträge": f"{posts:,}",
                "Aushang-Build s": _s(build),
                "Maßstab 1 Prozess s": _s(yard1),
                "Maßstab 2 Prozesse s": _s(_get(row, "yardstick_2p", "seconds")),
                "Verhältnis Build/Maßstab": f"{build / yard1:.1f}x" if build and yard1 else "–",
                "Blog-Plugin s": blog_cell,
                "Zensical s": zen_cell,
                "Suche": _get(row, "search", "kind") or "–",
            }
        )
    return {"main": main_rows, "compare": compare_rows}


def _markdown_table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "(keine Werte)\n"
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    lines += ["| " + " | ".join(r[h] for h in header) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def render_markdown(results: dict[str, Any]) -> str:
    tables = table_rows(results)
    machine = results["machine"]
    return (
        f"Aushang-Benchmark vom {results['started']}, {machine['cpus']} Kerne, "
        f"Python {machine['python']}\n\n"
        + _markdown_table(tables["main"])
        + "\nVergleich auf denselben Seiten:\n\n"
        + _markdown_table(tables["compare"])
    )


if __name__ == "__main__":
    sys.exit(main())
