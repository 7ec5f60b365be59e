"""The README stays a five-minute read and every page it leads to holds: its first two
commands are the ones CI runs, and every relative link, anchor, file path and module named in
README.md and docs/*.md exists."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / 'README.md'
PAGES = [README, *sorted((ROOT / 'docs').glob('*.md'))]
MAX_README_LINES = 400
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
FENCE = re.compile(r'^```.*?^```', re.M | re.S)
CODE_SPAN = re.compile(r'`([^`\n]+)`')
# Inline paths are checked when they start in one of these folders or name a Python file.
REPO_FOLDERS = ('ministral_node/', 'test/', 'scripts/', 'config/', 'docs/', 'launch/',
                'examples/', 'interfaces/', 'requirements/', '.ci/')
SEARCHED = ('ministral_node', 'test', 'scripts', 'examples', 'launch')


def _ids(pages: list[Path]) -> list[str]:
    return [p.relative_to(ROOT).as_posix() for p in pages]


def _prose(page: Path) -> str:
    """The page without its fenced code blocks."""
    return FENCE.sub('', page.read_text())


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    kept = ''.join(c for c in text if c in ' -_' or unicodedata.category(c)[0] in 'LN')
    return kept.replace(' ', '-')


def anchors(page: Path) -> set[str]:
    found: dict[str, int] = {}
    for heading in re.findall(r'^#+ (.+)$', _prose(page), re.M):
        slug = anchor(heading)
        count = found.get(slug, -1) + 1
        found[slug] = count
        if count:
            found[f'{slug}-{count}'] = 0
    return set(found)


def test_the_anchor_follows_github():
    assert anchor('Flying PX4 or MAVROS: `vehicle_interface`') == \
        'flying-px4-or-mavros-vehicle_interface'
    assert anchor('Missions (contract 1.1.0)') == 'missions-contract-110'
    assert anchor('Lifecycle, threads and time') == 'lifecycle-threads-and-time'


def test_the_readme_is_a_five_minute_read():
    lines = len(README.read_text().splitlines())
    assert lines <= MAX_README_LINES, \
        f'README.md has {lines} lines (at most {MAX_README_LINES}): move detail to docs/'


def test_the_readme_starts_with_the_commands_ci_and_the_demo_run():
    first_block = re.search(r'^```bash\n(.*?)^```', README.read_text(), re.M | re.S).group(1)
    commands = [line.split('#')[0].strip() for line in first_block.splitlines()]
    assert commands[:2] == ['make demo', 'make test']
    assert 'make test' in (ROOT / '.ci' / 'run').read_text().splitlines()


@pytest.mark.parametrize('page', PAGES, ids=_ids(PAGES))
def test_every_relative_link_resolves(page):
    broken = []
    for target in LINK.findall(_prose(page)):
        if re.match(r'[a-z]+:', target):
            continue
        path, _, fragment = target.partition('#')
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f'{target}: no such file')
        elif fragment and resolved.suffix == '.md' and fragment not in anchors(resolved):
            broken.append(f'{target}: no heading #{fragment}')
    assert not broken, broken


def _is_path(span: str) -> bool:
    """A file or folder of this repository: a Python file, or a path in one of its folders
    that names a file (an extension; scripts have none) or a folder (a trailing slash)."""
    if not re.fullmatch(r'[\w./-]+', span) or span.startswith(('/', '~')):
        return False
    return span.endswith('.py') or span.startswith(REPO_FOLDERS) and (
        span.endswith('/') or '.' in span.rsplit('/', 1)[-1] or span.startswith('scripts/'))


def _exists(path: str) -> bool:
    if path.startswith(REPO_FOLDERS):
        return (ROOT / path).exists()
    if '/' in path:  # a module path inside the package, e.g. engine/decoder.py
        return (ROOT / 'ministral_node' / path).exists()
    return any(next((ROOT / folder).rglob(path), None) for folder in SEARCHED)


@pytest.mark.parametrize('page', PAGES, ids=_ids(PAGES))
def test_every_file_path_named_exists(page):
    named = {span for span in CODE_SPAN.findall(_prose(page)) if _is_path(span)}
    missing = sorted(path for path in named if not _exists(path))
    assert not missing, missing


def _module_exists(dotted: str) -> bool:
    """`ministral_node.a.b` is a module or package, or a name defined in one."""
    parts = dotted.split('.')
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        source = base.with_suffix('.py') if base.with_suffix('.py').exists() \
            else base / '__init__.py'
        if source.exists():
            rest = parts[cut:]
            return not rest or (len(rest) == 1 and re.search(
                rf'\b{rest[0]}\b', source.read_text()) is not None)
    return False


@pytest.mark.parametrize('page', PAGES, ids=_ids(PAGES))
def test_every_module_named_exists(page):
    named = set(re.findall(r'\bministral_node(?:\.\w+)+', page.read_text()))
    missing = sorted(name for name in named if not _module_exists(name))
    assert not missing, missing


def test_the_checks_find_what_is_missing(tmp_path):
    assert _exists('ministral_node/safety/envelope.py') and _exists('engine/decoder.py')
    assert not _exists('ministral_node/safety.py') and not _exists('ros/mission_bridge.py')
    assert not _exists('mission_bridge.py')
    assert _is_path('scripts/param_table') and _is_path('ministral_node/perception/')
    assert not _is_path('ministral_node/detections') and not _is_path('/fmu/in/x.py')
    assert _module_exists('ministral_node.sources.rules.parse_command')
    assert not _module_exists('ministral_node.replay')
    page = tmp_path / 'page.md'
    page.write_text('# A title\n\n## Next one\n\n## Next one\n')
    assert anchors(page) == {'a-title', 'next-one', 'next-one-1'}


def test_the_code_map_names_every_package_and_module():
    text = (ROOT / 'docs' / 'code_map.md').read_text()
    named = set(CODE_SPAN.findall(text))
    package = ROOT / 'ministral_node'
    missing = []
    for path in sorted(package.rglob('*.py')):
        relative = path.relative_to(package)
        if path.name != '__init__.py' and not {path.stem, path.name} & named:
            missing.append(relative.as_posix())
        folder = relative.parent.as_posix()
        if folder != '.' and f'{folder}/' not in named:
            missing.append(f'{folder}/')
    assert not missing, f'docs/code_map.md does not describe {sorted(set(missing))}'
