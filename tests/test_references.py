"""Every reference the repository makes resolves inside the repository.

Code, Lua scripts, tests and docs cite the documentation as ``docs/<file>.md#<anchor>``, and the
markdown files link to each other with relative links. A citation whose file or anchor has gone
sends the reader nowhere, so the scan below fails on any; it also fails on a mention of a
document that is not part of the repository (a section number with no document, or a file
name the repository does not have).
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: ``docs/<file>.md`` with an optional ``#<anchor>``, anywhere in any text file. The look-behind
#: leaves out longer paths and URLs that merely end in ``docs/…``.
_CITATION = re.compile(r"(?<![\w./-])(docs/[\w./-]*?\.md)(?:#([\w-]+))?")
#: A markdown link or image: ``[text](target)`` or ``[text](<target> "title")``.
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_EXPLICIT_ANCHOR = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
_FENCE = re.compile(r"^\s*(```|~~~)")

#: Mentions of documents that are not in the repository. The patterns are spelled so that this
#: file's own source does not match them.
_FOREIGN: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bQ[U]IRKS?\b"), "a quirk number of an outside catalogue"),
    (re.compile(r"(?<![\w/-])protocol\.md"), "a document outside the repository"),
    (re.compile(r"(?<![\w/-])ecosystem\.md"), "a document outside the repository"),
    (re.compile(r"(?<![\w/-])style\.md"), "a document outside the repository"),
    (re.compile(r"shared[/]docs"), "a directory outside the repository"),
    (re.compile("\u00a7"), "a section number of a document outside the repository"),
)


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text, lowercased, punctuation dropped, spaces
    turned into hyphens (a repeated slug gets ``-1``, ``-2``… in :func:`anchors`)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts as its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def _outside_fences(markdown: str) -> list[tuple[int, str]]:
    """The numbered lines of ``markdown`` that are not inside a fenced code block."""
    lines, fenced = [], False
    for number, line in enumerate(markdown.splitlines(), start=1):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def anchors(markdown: str) -> set[str]:
    """Every anchor a link into ``markdown`` may name: explicit ``<a id=…>`` and heading slugs."""
    found: set[str] = set()
    seen: Counter[str] = Counter()
    for _, line in _outside_fences(markdown):
        found.update(_EXPLICIT_ANCHOR.findall(line))
        heading = _HEADING.match(line)
        if heading:
            slug = github_slug(heading.group(1))
            found.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
            seen[slug] += 1
    return found


class Checker:
    """Checks the files of one tree; reads each link target once."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._anchors: dict[Path, set[str]] = {}

    def _target_problem(self, target: Path, anchor: str | None, shown: str) -> str | None:
        target = target.resolve()
        if not target.is_relative_to(self.root):
            return f"{shown}: points outside the repository"
        if not target.exists():
            return f"{shown}: no such file"
        if anchor is None or target.suffix != ".md" or not target.is_file():
            return None
        if target not in self._anchors:
            self._anchors[target] = anchors(target.read_text(encoding="utf-8"))
        if anchor not in self._anchors[target]:
            return f"{shown}: no anchor #{anchor} in {target.relative_to(self.root)}"
        return None

    def check(self, relative: str, text: str) -> list[str]:
        """The problems of the file ``relative`` (to the root) whose content is ``text``."""
        problems: list[str] = []
        for number, line in enumerate(text.splitlines(), start=1):
            where = f"{relative}:{number}"
            for match in _CITATION.finditer(line):
                problem = self._target_problem(
                    self.root / match.group(1), match.group(2), match.group(0)
                )
                if problem:
                    problems.append(f"{where}: {problem}")
            for pattern, what in _FOREIGN:
                for match in pattern.finditer(line):
                    problems.append(f"{where}: {match.group(0)!r} cites {what}")
        if relative.endswith(".md"):
            problems.extend(self._check_links(relative, text))
        return problems

    def _check_links(self, relative: str, markdown: str) -> list[str]:
        problems = []
        here = self.root / relative
        for number, line in _outside_fences(markdown):
            for match in _LINK.finditer(re.sub(r"`[^`]*`", "", line)):
                link = match.group(1)
                if _SCHEME.match(link):
                    continue
                path, _, anchor = link.partition("#")
                target = here.parent / path if path else here
                problem = self._target_problem(target, anchor or None, link)
                if problem:
                    problems.append(f"{relative}:{number}: {problem}")
        return problems


def tracked_text_files(root: Path) -> dict[str, str]:
    """The repository's tracked files that are UTF-8 text, by path relative to ``root``."""
    listing = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True, timeout=60
    ).stdout.decode()
    files = {}
    for relative in filter(None, listing.split("\0")):
        path = root / relative
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        try:
            files[relative] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:  # binary
            continue
    return files


def check_repository(root: Path) -> list[str]:
    """Every broken reference in the tracked text files of the repository at ``root``."""
    checker = Checker(root)
    problems = []
    for relative, text in sorted(tracked_text_files(root).items()):
        problems.extend(checker.check(relative, text))
    return problems


# --- the repository -------------------------------------------------------------------------


def test_every_reference_in_the_repository_resolves() -> None:
    files = tracked_text_files(ROOT)
    assert "docs/compatibility.md" in files and "README.md" in files, "not the repository root"
    assert any(path.endswith(".lua") for path in files), "the Lua scripts are not scanned"
    problems = check_repository(ROOT)
    assert not problems, "broken references:\n" + "\n".join(problems)


def test_the_code_cites_the_quirk_catalogue() -> None:
    # The scan above proves nothing if nothing cites: the code and tests do, by anchor.
    cited = {
        match.group(2)
        for text in tracked_text_files(ROOT).values()
        for match in _CITATION.finditer(text)
        if match.group(1) == "docs/compatibility.md" and match.group(2)
    }
    assert {"quirk-archive-size-limit", "quirk-pending-since-not-restored", "redis-keys"} <= cited


# --- the checker itself, on samples ---------------------------------------------------------

#: The docs folder of the samples, kept out of the literal text so that the scan of this very
#: file does not read the samples' broken citations as its own.
D = "docs"


def _sample_tree(tmp_path: Path) -> Checker:
    docs = tmp_path / D
    docs.mkdir()
    (docs / "guide.md").write_text(
        "# Guide\n\n"
        '<a id="explicit-anchor"></a>\n'
        "## Go ↔ Python `names`\n\n"
        "## Setup\n\n## Setup\n\n"
        "```\n# not a heading\n[not a link](missing.md)\n```\n"
        "See [setup](#setup-1), [the other](other.md#top) and [gone](gone.md).\n"
        "Also [bad anchor](#nowhere), [web](https://example.com/x.md) and `[code](nope.md)`.\n",
        encoding="utf-8",
    )
    (docs / "other.md").write_text("# Top\n", encoding="utf-8")
    return Checker(tmp_path)


def test_anchors_follow_github_slugs(tmp_path: Path) -> None:
    _sample_tree(tmp_path)
    assert anchors((tmp_path / D / "guide.md").read_text(encoding="utf-8")) == {
        "guide",
        "explicit-anchor",
        "go--python-names",
        "setup",
        "setup-1",
    }
    assert github_slug("No `pending_since` after [requeue](x.md) or run") == (
        "no-pending_since-after-requeue-or-run"
    )


def test_checker_reports_missing_files_and_anchors(tmp_path: Path) -> None:
    checker = _sample_tree(tmp_path)
    code = (
        f"# {D}/guide.md#explicit-anchor and {D}/guide.md#go--python-names are fine,\n"
        f"# so is {D}/other.md and https://example.com/{D}/absent.md#x.\n"
        f"# Broken: {D}/guide.md#no-such-anchor, {D}/absent.md#top.\n"
    )
    assert checker.check("pkg/module.py", code) == [
        f"pkg/module.py:3: {D}/guide.md#no-such-anchor: no anchor #no-such-anchor in {D}/guide.md",
        f"pkg/module.py:3: {D}/absent.md#top: no such file",
    ]


def test_checker_reports_broken_markdown_links(tmp_path: Path) -> None:
    checker = _sample_tree(tmp_path)
    text = (tmp_path / D / "guide.md").read_text(encoding="utf-8")
    assert checker.check(f"{D}/guide.md", text) == [
        f"{D}/guide.md:14: gone.md: no such file",
        f"{D}/guide.md:15: #nowhere: no anchor #nowhere in {D}/guide.md",
    ]
    outside = checker.check(f"{D}/up.md", "[up](../../elsewhere.md)\n")
    assert outside == [f"{D}/up.md:1: ../../elsewhere.md: points outside the repository"]


def test_checker_reports_documents_from_outside(tmp_path: Path) -> None:
    checker = _sample_tree(tmp_path)
    # Spelled in pieces so that this file itself stays clean.
    lines = [
        "-- lock kept (QUI" + "RK Q2)",
        "# see proto" + "col.md for the layout",
        "# as in the shared" + "/docs notes, section \u00a7" + "4.1",
        "# ecosystem" + ".md and style" + ".md",
        f"# a quirk, {D}/guide.md#setup: fine",
    ]
    problems = checker.check("pkg/x.lua", "\n".join(lines))
    assert [p.split(":")[1] for p in problems] == ["1", "2", "3", "3", "4", "4"]
    assert all(" cites " in p for p in problems)
