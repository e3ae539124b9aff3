"""The documentation a newcomer walks: every relative link resolves, and the README stays short.

Links are checked in README.md, docs/*.md and roles/*/README.md. A link to a file must
name one that exists; a link with a #anchor into a markdown file (or into the page
itself) must name a heading of that file, slugged the way GitHub does.
"""

import glob
import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
README = os.path.join(ROOT, "README.md")
README_MAX_LINES = 300

PAGES = sorted([README]
               + glob.glob(os.path.join(ROOT, "docs", "*.md"))
               + glob.glob(os.path.join(ROOT, "roles", "*", "README.md")))

FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+).+?\1")
# [text](target) and ![alt](target); the target may be followed by a "title".
INLINE_LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# [label]: target
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose_lines(path):
    """The lines of a markdown file outside fenced code blocks."""
    in_fence = False
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            if not in_fence:
                yield line.rstrip("\n")


def github_slug(heading):
    """GitHub's anchor for a heading: the rendered text, lowercased, punctuation other
    than '-' and '_' dropped, each space turned into '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # a link renders as its text
    text = text.replace("`", "").replace("*", "")               # code and emphasis markers
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    """Every heading anchor of a markdown file; repeated headings get -1, -2, ... as on GitHub."""
    seen = {}
    found = set()
    for line in prose_lines(path):
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(path):
    """(line number, target) of every link in the page's prose, code spans left out."""
    number = 0
    in_fence = False
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            line = CODE_SPAN.sub("", line)
            for match in INLINE_LINK.finditer(line):
                yield number, match.group(1)
            reference = REFERENCE_LINK.match(line)
            if reference:
                yield number, reference.group(1)


def broken_links(page):
    problems = []
    for number, target in links(page):
        if SCHEME.match(target) or target.startswith("//"):
            continue  # a URL: not this repository's business
        file_part, _, anchor = target.partition("#")
        destination = os.path.normpath(os.path.join(os.path.dirname(page), file_part)) if file_part else page
        where = f"{os.path.relpath(page, ROOT)}:{number}: {target}"
        if not os.path.exists(destination):
            problems.append(f"{where}: {os.path.relpath(destination, ROOT)} does not exist")
        elif anchor and destination.endswith(".md") and anchor not in anchors(destination):
            problems.append(f"{where}: no heading with the anchor #{anchor} in {os.path.relpath(destination, ROOT)}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_relative_link_resolves(page):
    assert broken_links(page) == []


def test_the_pages_are_found():
    # Guards the globs above: a moved docs/ directory must not make the link test pass vacuously.
    names = {os.path.relpath(p, ROOT) for p in PAGES}
    assert {"README.md", os.path.join("docs", "DEVELOPING.md"), os.path.join("roles", "pki", "README.md")} <= names


def test_readme_stays_short():
    with open(README, encoding="utf-8") as handle:
        count = sum(1 for _ in handle)
    assert count < README_MAX_LINES, (
        f"README.md has {count} lines; keep it under {README_MAX_LINES} and move detail to docs/<tier>.md")


def test_readme_names_no_retired_tier():
    # MinIO was removed; the README may only name it as a refused weak password.
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    assert re.findall(r"minio(?!admin)", text, flags=re.IGNORECASE) == []


@pytest.mark.parametrize("heading,slug", [
    ("Quick start (a fresh Debian machine, as root)", "quick-start-a-fresh-debian-machine-as-root"),
    ("Joining: `cloudphone.infra.rabbitmq_cluster`", "joining-cloudphoneinfrarabbitmq_cluster"),
    ("make test", "make-test"),
    ("Base: common, PKI and secrets", "base-common-pki-and-secrets"),
])
def test_github_slug(heading, slug):
    assert github_slug(heading) == slug


def test_a_broken_link_and_a_missing_anchor_are_reported(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## A section\n")
    page = tmp_path / "page.md"
    page.write_text("# Page\n\n[ok](other.md#a-section) [self](#page) [url](https://example.invalid/x)\n"
                    "[gone](missing.md) [bad anchor](other.md#no-such-section)\n"
                    "```\n[inside a fence](nowhere.md)\n```\n`[in code](nowhere.md)`\n")
    problems = broken_links(str(page))
    assert len(problems) == 2, problems
    assert "missing.md does not exist" in problems[0]
    assert "#no-such-section" in problems[1]
