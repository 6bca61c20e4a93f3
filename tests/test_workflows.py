"""The GitHub Actions workflows: linted by zizmor and actionlint (offline), and the rules the
mirror lives by checked on the parsed YAML (rights, pins, triggers, secrets, concurrency)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
MIRROR = WORKFLOWS / "mirror.yml"
TESTS = WORKFLOWS / "test.yml"
PINNED = re.compile(r"^\s*-?\s*uses:\s*[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$")


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is a test dependency (pyproject.toml [test]); install it"
    return found


def _load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key "on" as True.
    data["on"] = data.pop(True, data.get("on"))
    return dict(data)


def _zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("zizmor"), "--offline", "--quiet", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("actionlint"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_zizmor_finds_nothing_in_our_workflows() -> None:
    result = _zizmor(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_nothing_in_our_workflows() -> None:
    result = _actionlint(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linters_do_catch_a_dangerous_workflow(tmp_path: Path) -> None:
    """So the two tests above can fail: an unpinned action, injection, default rights."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request_target\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n",
        encoding="utf-8",
    )
    assert _zizmor(bad).returncode != 0
    assert _actionlint(bad).returncode != 0


@pytest.mark.parametrize("path", [MIRROR, TESTS], ids=["mirror", "test"])
def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version(path: Path) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert lines
    for line in lines:
        assert PINNED.match(line), f"{path.name}: not pinned to a SHA with '# vX.Y.Z': {line}"


def test_the_mirror_runs_hourly_off_the_full_hour_and_never_for_pull_requests() -> None:
    workflow = _load(MIRROR)
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    (cron,) = [entry["cron"] for entry in workflow["on"]["schedule"]]
    minute, hour, *_ = cron.split()
    assert hour == "*" and minute.isdigit() and 0 < int(minute) < 60
    condition = workflow["jobs"]["mirror"]["if"]
    assert "default_branch" in condition and "'schedule'" in condition, "default branch only"


def test_the_mirror_has_least_privilege_and_a_concurrency_group_that_never_cancels() -> None:
    workflow = _load(MIRROR)
    assert workflow["permissions"] == {}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    jobs = workflow["jobs"]
    assert jobs["mirror"]["permissions"] == {"contents": "read"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["report"]["permissions"] == {}
    for name, job in jobs.items():
        rights = job.get("permissions", {})
        if name != "deploy":
            assert "write" not in rights.values(), f"{name} must not write"
    deploy_steps = jobs["deploy"]["steps"]
    assert any("actions/deploy-pages@" in step.get("uses", "") for step in deploy_steps)
    uploads = [s for s in jobs["mirror"]["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert uploads and uploads[0]["with"]["path"] == "site"


def test_secrets_appear_only_in_the_steps_that_need_them() -> None:
    """Platform tokens only in the fetch step's env; the archive key only to fetch and push."""
    workflow = _load(MIRROR)
    for name, job in workflow["jobs"].items():
        job_level = {k: v for k, v in job.items() if k != "steps"}
        assert "secrets." not in yaml.safe_dump(job_level), f"job {name} has secrets outside steps"
        for step in job.get("steps", []):
            text = yaml.safe_dump(step)
            if "secrets." not in text:
                continue
            label = step.get("name", "")
            if label == "Abrufen":
                assert set(re.findall(r"secrets\.(\w+)", yaml.safe_dump(step["env"]))), label
                assert "secrets." not in step["run"]
            elif label in ("Archiv holen (privates Repository)", "Archiv sichern"):
                assert set(re.findall(r"secrets\.(\w+)", text)) == {"AUSHANG_ARCHIVE_DEPLOY_KEY"}
                assert step.get("with", {}).get("persist-credentials", False) is False
            elif label == "Bilder zum Medien-Server":
                assert set(re.findall(r"secrets\.(\w+)", text)) == {"AUSHANG_MEDIA_DEPLOY_KEY"}
                assert "secrets." not in step["run"]
            else:
                pytest.fail(f"step {label!r} of job {name} uses a secret")
    assert "toJSON(secrets)" not in MIRROR.read_text(encoding="utf-8")


def test_the_test_workflow_reads_only_and_holds_no_secret() -> None:
    workflow = _load(TESTS)
    assert {"push", "pull_request"} <= set(workflow["on"])
    assert "pull_request_target" not in workflow["on"]
    assert workflow["permissions"] == {"contents": "read"}
    assert "secrets." not in TESTS.read_text(encoding="utf-8")
    commands = " ".join(s.get("run", "") for s in workflow["jobs"]["test"]["steps"])
    for target in ("make lint", "lint-workflows", "make typecheck", "make test", "demo-build"):
        assert target in commands


def test_make_test_lints_the_workflows() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test:.*\blint-workflows\b", makefile, re.MULTILINE)
    assert re.search(r"^lint-workflows:.*\n\t.*zizmor --offline", makefile, re.MULTILINE)


def _publish_decision(tmp_path: Path, hour: str, **env: str) -> str:
    """Run the mirror's step "Veröffentlichen nötig?" as Actions would, at ``hour`` (UTC)."""
    step = next(s for s in _load(MIRROR)["jobs"]["mirror"]["steps"] if s.get("id") == "publish")
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    (fake / "date").write_text(f"#!/bin/sh\necho {hour}\n", encoding="utf-8")
    (fake / "date").chmod(0o755)
    output = tmp_path / "output"
    output.write_text("", encoding="utf-8")
    environ = {
        "PATH": f"{fake}:{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
        "SITE_CHANGED": "false",
        "FETCH_EXIT": "0",
        "EVENT": "schedule",
        **env,
    }
    subprocess.run(["bash", "-e", "-c", step["run"]], env=environ, check=True, capture_output=True)
    return output.read_text(encoding="utf-8").strip()


def test_the_site_is_published_and_cached_only_when_more_than_the_status_page_changed(
    tmp_path: Path,
) -> None:
    steps = _load(MIRROR)["jobs"]["mirror"]["steps"]
    build = next(s for s in steps if s.get("id") == "build")
    assert "aushang build" in build["run"]
    save = next(s for s in steps if "actions/cache/save@" in s.get("uses", ""))
    assert save["if"] == "${{ steps.build.outputs.site-changed == 'true' }}"
    upload = next(s for s in steps if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["if"] == "${{ steps.publish.outputs.publish == 'true' }}"
    assert _load(MIRROR)["jobs"]["deploy"]["if"] == "${{ needs.mirror.outputs.publish == 'true' }}"
    # nothing new at 05:17: not published; at 06:17 the status page is due
    assert _publish_decision(tmp_path, "05") == "publish=false"
    assert _publish_decision(tmp_path, "06") == "publish=true"
    assert _publish_decision(tmp_path, "08") == "publish=false"  # 08, not octal
    assert _publish_decision(tmp_path, "05", SITE_CHANGED="true") == "publish=true"
    assert _publish_decision(tmp_path, "05", FETCH_EXIT="1") == "publish=true"
    assert _publish_decision(tmp_path, "05", EVENT="workflow_dispatch") == "publish=true"


def test_with_a_media_host_the_images_go_there_before_the_site_is_uploaded(
    tmp_path: Path,
) -> None:
    """The step "Bilder zum Medien-Server" (only with vars.AUSHANG_MEDIA_RSYNC, only when the
    site is published) mirrors site/media to the host with its known host key, deletes there
    what no post shows any more, and leaves site/ without media/; the key file is gone after.
    Run with stand-ins for rsync and ssh that record their arguments."""
    steps = _load(MIRROR)["jobs"]["mirror"]["steps"]
    names = [s.get("name") for s in steps]
    media = steps[names.index("Bilder zum Medien-Server")]
    assert names.index("Bilder zum Medien-Server") < names.index("Seite hochladen")
    assert names.index("Bau sichern") < names.index("Bilder zum Medien-Server")  # cache keeps it
    assert "steps.publish.outputs.publish == 'true'" in media["if"]
    assert "vars.AUSHANG_MEDIA_RSYNC != ''" in media["if"]
    fake = tmp_path / "bin"
    fake.mkdir()
    calls = tmp_path / "calls"
    (fake / "rsync").write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$@\" > {calls}\n"
        'prev=""\n'
        'for a in "$@"; do\n'
        f'  if [ "$prev" = "--rsh" ]; then set -- $a; cp "$3" {tmp_path}/seen-key; break; fi\n'
        '  prev="$a"\n'
        "done\n",
        encoding="utf-8",
    )
    (fake / "rsync").chmod(0o755)
    work = tmp_path / "work"
    (work / "site" / "media" / "ab").mkdir(parents=True)
    (work / "site" / "media" / "ab" / "ab12-480.webp").write_bytes(b"RIFF")
    (work / "site" / "index.html").write_text("<!doctype html>", encoding="utf-8")
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    environ = {
        "PATH": f"{fake}:{os.environ['PATH']}",
        "RUNNER_TEMP": str(runner_temp),
        "TARGET": "web@medien.musterstadt.de:/var/www/medien/aushang/",
        "KNOWN_HOSTS": "medien.musterstadt.de ssh-ed25519 AAAAtest",
        "MEDIA_DEPLOY_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\ngeheim\n",
    }
    subprocess.run(
        ["bash", "-e", "-c", media["run"]], env=environ, cwd=work, check=True, capture_output=True
    )
    args = calls.read_text(encoding="utf-8").splitlines()
    assert args[:3] == ["--archive", "--size-only", "--delete"]
    assert args[-2:] == ["site/media/", "web@medien.musterstadt.de:/var/www/medien/aushang/"]
    assert "StrictHostKeyChecking=yes" in args[4] and str(runner_temp) in args[4]
    assert (tmp_path / "seen-key").read_text(encoding="utf-8").startswith("-----BEGIN OPENSSH")
    known = (runner_temp / "media_known_hosts").read_text(encoding="utf-8")
    assert known == "medien.musterstadt.de ssh-ed25519 AAAAtest\n"
    assert not (runner_temp / "media-key").exists()  # removed on exit
    assert not (work / "site" / "media").exists() and (work / "site" / "index.html").is_file()
