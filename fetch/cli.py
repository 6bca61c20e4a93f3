"""The ``aushang`` command: fetch, build, demo, clean-url, sources.

Exit codes: 0 success; 1 a run finished but some accounts failed (the others were updated);
2 bad usage or a broken config (nothing was fetched).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TextIO

from . import __version__
from .config import DEFAULT_CONFIG, Config, load_config
from .errors import AushangError, ConfigError
from .http import RedactingFilter, quiet_library_loggers

log = logging.getLogger("aushang")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose - args.quiet)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        result: int = args.handler(args)
        return result
    except ConfigError as exc:
        print(f"aushang: config error: {exc}", file=sys.stderr)
        return 2
    except AushangError as exc:
        print(f"aushang: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aushang",
        description="Archive a city's own social-media posts and build a tracker-free static site.",
    )
    parser.add_argument("--version", action="version", version=f"aushang {__version__}")
    parser.add_argument(
        "--config",
        default=DEFAULT_CONFIG,
        metavar="PATH",
        help=f"the city's config file (default: {DEFAULT_CONFIG})",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more output")
    parser.add_argument("-q", "--quiet", action="count", default=0, help="less output")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    fetch = commands.add_parser(
        "fetch",
        help="update the archive from every configured account",
        description="Fetch what is new from every configured account into the archive. "
        "One failing account is reported and the others are still updated.",
    )
    fetch.add_argument(
        "--account", action="append", metavar="KEY", help="only this account (repeatable)"
    )
    fetch.set_defaults(handler=cmd_fetch)

    build = commands.add_parser(
        "build",
        help="build the site from the archive (offline) into site/",
        description="Build the static site from the archive. Makes no network request.",
    )
    build.add_argument("--no-strict", action="store_true", help="do not fail on mkdocs warnings")
    build.add_argument(
        "--allow-drop",
        action="store_true",
        help="build even if far fewer posts would be published than at the last build "
        "(max_drop_percent in the config)",
    )
    build.add_argument(
        "--full",
        action="store_true",
        help="forget the last build: make every page again and scan the whole site "
        "(a normal run does only the work the archive's changes need)",
    )
    build.set_defaults(handler=cmd_build)

    demo = commands.add_parser(
        "demo",
        help="run the Musterstadt demo: fetch from a local demo server, build, serve",
        description="Start the bundled demo platforms on 127.0.0.1, fetch the config's accounts "
        "from them into demo/archive, build the site into site/ and serve it.",
    )
    demo.add_argument("--no-serve", action="store_true", help="stop after the build")
    demo.add_argument("--port", type=int, default=8000, help="port for the site (default 8000)")
    demo.add_argument("--keep", action="store_true", help="keep the previous demo archive")
    demo.set_defaults(handler=cmd_demo)

    clean = commands.add_parser(
        "clean-url",
        help="print the cleaned form of each URL, one per line",
        description="Show what the mirror does with a link: redirect wrappers unwrapped, "
        "tracking parameters removed.",
    )
    clean.add_argument("urls", nargs="+", metavar="URL")
    clean.set_defaults(handler=cmd_clean_url)

    restore = commands.add_parser(
        "restore",
        help="put a post deleted by the mirror back into the archive",
        description="Undo a deletion: move a post from archive/deleted/ back (see audit.log).",
    )
    restore.add_argument("post", metavar="POST_ID", help="platform:account:id")
    restore.set_defaults(handler=cmd_restore)

    history = commands.add_parser(
        "import",
        help="import older posts from a platform's data export (X archive, Meta export)",
        description="Read the posts of a data export (the .zip as downloaded, its unpacked "
        "folder, or the posts file itself) into the archive as posts of the given account. "
        "Images come from the export and are re-encoded without metadata; nothing is "
        "downloaded. Importing the same export again changes nothing.",
    )
    history.add_argument(
        "platform", choices=("x", "facebook", "instagram"), help="x, facebook or instagram"
    )
    history.add_argument("file", metavar="FILE", type=Path, help="the export: .zip, folder or file")
    history.add_argument(
        "--account", required=True, metavar="KEY", help="the account in the config to import into"
    )
    history.add_argument(
        "--before",
        metavar="YYYY-MM-DD",
        help="Facebook/Instagram: import only posts before this day (default: before the "
        "oldest post the API has fetched)",
    )
    history.set_defaults(handler=cmd_import)

    sources = commands.add_parser(
        "sources",
        help="list every supported platform and what it needs",
    )
    sources.set_defaults(handler=cmd_sources)
    return parser


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record, not at set-up: a caller
    that swaps stderr (a test harness, a daemon wrapper) keeps receiving the log."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def setup_logging(level: int) -> None:
    quiet_library_loggers()
    handler = _StderrHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if level < 0 else logging.DEBUG if level > 0 else logging.INFO)
    quiet_library_loggers()


def _config(args: argparse.Namespace) -> Config:
    # absolute: the build's catalog key holds the config as loaded, and `aushang build` and
    # `aushang --config /path/aushang.yml build` must find the same catalog
    return load_config(Path(args.config).absolute())


def cmd_fetch(args: argparse.Namespace) -> int:
    from .run import run_fetch

    config = _config(args)
    only = set(args.account or [])
    unknown = only - {a.key for a in config.accounts}
    if unknown:
        raise ConfigError(
            str(config.path), "accounts", f"no account with key {', '.join(sorted(unknown))}"
        )
    report = run_fetch(config, only=only or None)
    print("\n".join(report.summary_lines()))
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        from .run import write_step_summary

        write_step_summary(report, os.environ["GITHUB_STEP_SUMMARY"])
    if report.failed:
        print(f"{len(report.failed)} account(s) failed; the others were updated.", file=sys.stderr)
    if report.stale:
        names = ", ".join(a.key for a in report.stale)
        print(
            f"stale (no successful fetch for over {config.stale_after_hours} h): {names}",
            file=sys.stderr,
        )
    return report.exit_code


def cmd_restore(args: argparse.Namespace) -> int:
    from .archive import Archive
    from .lifecycle import AUDIT_FILE, AuditLog, restore_deleted

    config = _config(args)
    archive = Archive(config.archive_dir)
    parts = args.post.split(":", 2)  # a native id may itself hold colons (Bluesky's at:// URIs)
    if len(parts) != 3 or not all(parts):
        raise AushangError(f"{args.post!r}: expected platform:account:id, as in the audit log")
    _platform, account, native_id = parts
    with archive.lock():
        audit = AuditLog(archive.root / AUDIT_FILE, retention_days=config.audit_retention_days)
        post = restore_deleted(archive, account, native_id, audit)
    print(f"restored {post.id}; it is published again at the next build")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from .site.build import build_site

    report = build_site(
        _config(args), strict=not args.no_strict, allow_drop=args.allow_drop, full=args.full
    )
    print(report.summary())
    if os.environ.get("GITHUB_OUTPUT"):
        # for the hourly workflow: publish (and cache) the site only when more than the
        # status page changed (.github/workflows/mirror.yml)
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as output:
            output.write(f"site-changed={'true' if report.changed else 'false'}\n")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo.run import demo_config, demo_environ, reset_demo, serve_site, start_demo_server
    from .run import run_fetch
    from .site.build import build_site

    config = _config(args)
    work_dir = config.path.resolve().parent / "demo"
    if not args.keep:
        reset_demo(work_dir)
    server = start_demo_server()
    try:
        demo = demo_config(config, server.url, work_dir)
        log.info("demo platforms on %s; archive in %s", server.url, demo.archive_dir)
        report = run_fetch(demo, environ=demo_environ(demo))
        print("\n".join(report.summary_lines()))
    finally:
        server.stop()
    built = build_site(demo)
    print(built.summary())
    if report.failed:
        return 1
    if not args.no_serve:
        serve_site(built.site_dir, args.port)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .importers import run_import

    before = args.before
    if before:
        import datetime as dt

        try:
            before = dt.date.fromisoformat(before).isoformat()
        except ValueError:
            raise ConfigError(
                "--before", "", f"expected a date like 2024-01-31, got {before!r}"
            ) from None
    report = run_import(_config(args), args.platform, args.file, args.account, before=before)
    print("\n".join(report.summary_lines()))
    return 0


def cmd_clean_url(args: argparse.Namespace) -> int:
    from .clean.links import clean_url

    for url in args.urls:
        print(clean_url(url))
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from .sources import registry

    for source in registry.all_sources():
        print(f"{source.name}  ({source.label})")
        for param in source.params:
            need = "required" if param.required else "optional"
            print(f"  {param.name:<14} {need:<9} {param.description}")
        for secret in source.secrets:
            need = "required" if secret.required else "optional"
            print(f"  {secret.name + '_env':<14} {need:<9} env var with {secret.description}")
        print(f"  docs: docs/{source.docs}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
