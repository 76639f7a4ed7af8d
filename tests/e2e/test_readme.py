"""Every ```sh and ```python block of README.md and of its guides in docs/, run twice in a row
against a fresh server.

Blocks are found by parsing the pages of PAGES, so a new snippet is tested without touching this file
(a new page with snippets must be added to PAGES: a test fails until it is). A block
that cannot run here (a deploy, a long-running server, a nightly toolchain) must be preceded by an
HTML comment `<!-- not run by test_readme: <why> -->`; any other block runs. The README's addresses
are rewritten to this test's servers: `127.0.0.1:8080` / `port=8080` to a fresh `snowgate serve`
(memory store) and `127.0.0.1:5000` to the moto_server of SNOWGATE_TEST_AWS_ENDPOINT; the placeholder
public key `MIIBIjANBgkq…` becomes the public half of the `svc_loader.pem` an earlier block made.
Blocks run in page order (PAGES, then each page's order) against one server, in one scratch
directory, since the guides build on each other (files and users one block makes are there for the
next: `svc_loader.pem` and the `loader` role of the service-users page serve the later pages), with `snowgate` (target/debug), `.venv/bin` and `.venv-fakesnow/bin` first on the PATH.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO_ROOT, aws_server_env, run_snowgate, snowgate_bin

README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"
# The pages whose snippets run, in the order they run (the README's "Guides" order): later pages use
# what earlier ones made.
PAGES = [
    README,
    DOCS / "engine-gateway.md",
    DOCS / "service-users-and-key-pairs.md",
    DOCS / "protect-an-http-app.md",
    DOCS / "sql-api.md",
    DOCS / "programmatic-access-tokens.md",
    DOCS / "mfa.md",
    DOCS / "workload-identity.md",
    DOCS / "external-oauth.md",
    DOCS / "policies.md",
    DOCS / "login-history.md",
    DOCS / "deployment-on-aws.md",
    DOCS / "performance-and-hostile-input.md",
]
RUN_LANGUAGES = ("sh", "python")
# Languages of blocks that are data or output, never commands.
NOT_CODE = ("sql", "json", "text")
SKIP_MARKER = re.compile(r"<!--\s*not run by test_readme:\s*(\S[^>]*?)\s*-->")
FENCE = re.compile(r"^```(\w*)\s*$")
KEY_PLACEHOLDER = "MIIBIjANBgkq…"
SNIPPET_TIMEOUT_S = 120


@dataclass
class Block:
    page: str  # the file, relative to the repository
    language: str
    line: int  # 1-based line of the opening fence
    text: str
    skip_reason: str | None


def readme_blocks(markdown: str, page: str = "README.md") -> list[Block]:
    """Fenced blocks with the skip marker (if any) on the last non-blank line before the fence."""
    blocks, lines, i = [], markdown.splitlines(), 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        start = i
        i += 1
        body = []
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        before = next((ln for ln in reversed(lines[:start]) if ln.strip()), "")
        marker = SKIP_MARKER.search(before)
        blocks.append(
            Block(page, opening.group(1), start + 1, "\n".join(body) + "\n", marker and marker.group(1))
        )
    return blocks


def runnable(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if b.language in RUN_LANGUAGES and b.skip_reason is None]


def public_key_of(pem_path: Path) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def localize(text: str, server_port: int, aws_endpoint: str, workdir: Path) -> str:
    text = text.replace("127.0.0.1:8080", f"127.0.0.1:{server_port}")
    text = re.sub(r"\bport=8080\b", f"port={server_port}", text)
    text = text.replace("http://127.0.0.1:5000", aws_endpoint)
    pem = workdir / "svc_loader.pem"
    # Before the keygen block has run, the placeholder is only in its sample output (comments).
    if KEY_PLACEHOLDER in text and pem.is_file():
        text = text.replace(KEY_PLACEHOLDER, public_key_of(pem))
    return text


def run_block(block: Block, text: str, workdir: Path, env: dict[str, str]) -> None:
    command = ["bash", "-euo", "pipefail", "-c", text]
    if block.language == "python":
        command = [sys.executable, "-c", text]
    done = subprocess.run(
        command,
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SNIPPET_TIMEOUT_S,
    )
    assert done.returncode == 0, (
        f"{block.page} line {block.line} ({block.language}) exited {done.returncode}\n"
        f"--- snippet ---\n{text}--- stdout ---\n{done.stdout}--- stderr ---\n{done.stderr}"
    )
    # A refusal is HTTP 200 with success false, which curl does not treat as an error.
    assert '"success":false' not in done.stdout.replace(" ", ""), (
        f"{block.page} line {block.line} printed a refusal:\n{done.stdout}"
    )


def test_the_parser_sees_markers_and_languages():
    blocks = readme_blocks(
        "text\n\n<!-- not run by test_readme: needs AWS -->\n```sh\nsam deploy\n```\n\n"
        "```python\nprint(1)\n```\n```json\n{}\n```\n"
    )
    assert [(b.language, b.skip_reason, b.text) for b in blocks] == [
        ("sh", "needs AWS", "sam deploy\n"),
        ("python", None, "print(1)\n"),
        ("json", None, "{}\n"),
    ]
    assert [b.text for b in runnable(blocks)] == ["print(1)\n"]


def page_name(page: Path) -> str:
    return str(page.relative_to(REPO_ROOT))


def page_blocks(page: Path) -> list[Block]:
    return readme_blocks(page.read_text(), page_name(page))


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in page_blocks(page)]


@pytest.mark.parametrize("page", PAGES, ids=page_name)
def test_every_readme_block_is_run_or_marked(page):
    """Nothing is skipped silently: a block is run (```sh, ```python) or is data that cannot run
    (```sql, ```json, ```text); a shell or Python block under another name (```bash, ```py, no
    language) would escape the test, so it fails here. The marker is only for sh/python blocks."""
    blocks = page_blocks(page)
    name = page_name(page)
    assert blocks, f"{name} has no code block: drop it from PAGES"
    other = [(b.line, b.language) for b in blocks if b.language not in RUN_LANGUAGES + NOT_CODE]
    assert not other, f"{name} blocks in a language this test neither runs nor knows: {other}"
    misplaced = [b.line for b in blocks if b.skip_reason and b.language not in RUN_LANGUAGES]
    assert not misplaced, f"{name}: skip markers on blocks that would not run anyway, lines {misplaced}"


def test_the_snippets_are_found():
    assert len(runnable(page_blocks(README))) >= 2, "the README's snippets were not found"
    assert len(runnable(all_blocks())) >= 15, "the guides' snippets were not found"


def test_every_page_with_snippets_is_run():
    """A docs/ page whose ```sh or ```python blocks are not in PAGES would never be run."""
    listed = {page.resolve() for page in PAGES}
    missing = [
        page_name(page)
        for page in sorted(DOCS.glob("*.md"))
        if page.resolve() not in listed
        and any(b.language in RUN_LANGUAGES for b in page_blocks(page))
    ]
    assert not missing, f"pages with shell or Python blocks missing from PAGES: {missing}"


def test_every_readme_snippet_runs_twice(tmp_path, aws_endpoint):
    bin_dir = snowgate_bin().parent
    workdir = tmp_path / "work"
    workdir.mkdir()
    server_env = {"SNOWGATE_STORE": "memory", "SNOWGATE_TABLE": None}
    # Workload identity attestations are replayed to moto's STS.
    server_env["SNOWGATE_STS_ENDPOINT"] = aws_endpoint
    with run_snowgate(tmp_path, server_env) as server:
        env = {k: v for k, v in server.env.items() if not k.startswith("SNOWGATE_")}
        for name, value in aws_server_env(aws_endpoint).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        env["PATH"] = os.pathsep.join(
            [
                str(bin_dir),
                str(REPO_ROOT / ".venv" / "bin"),
                # fakesnow, the engine of the gateway section (made by scripts/test).
                str(REPO_ROOT / ".venv-fakesnow" / "bin"),
                env.get("PATH", ""),
            ]
        )
        for block in runnable(all_blocks()):
            text = localize(block.text, server.port, aws_endpoint, workdir)
            run_block(block, text, workdir, env)
            run_block(block, text, workdir, env)


# Code spans and blocks are not links (`f(NAME => x)` is SQL, not a link to "NAME => x").
CODE = re.compile(r"^```.*?^```\s*$|`[^`]*`", re.M | re.S)


def anchors_of(text: str) -> set[str]:
    return {
        re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", CODE.sub("", text), re.M)
    }


LINKED_PAGES = [README, *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("page", LINKED_PAGES, ids=page_name)
def test_readme_links_stay_in_the_repository(page):
    """A newcomer's clone has everything the README and its docs point to: links are anchors of a
    page, or files of this repository, never URLs or paths outside it."""
    name = page_name(page)
    text = page.read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", CODE.sub("", text)):
        if target.startswith("#"):
            assert target[1:] in anchors_of(text), f"{name} links to a missing heading {target}"
            continue
        assert "://" not in target and not target.startswith("mailto:"), f"{name} links out: {target}"
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve()
        assert path.is_relative_to(REPO_ROOT.resolve()), f"{name} links outside: {target}"
        assert path.exists(), f"{name} links to a missing file: {target}"
        if anchor and path.suffix == ".md":
            assert anchor in anchors_of(path.read_text()), f"{name} links to a missing heading {target}"
