"""Real-browser fixtures: Playwright's Python package driving Debian's Chromium.

Never `playwright install`: the browser is /usr/bin/chromium (installed by `./test` with apt).
Screenshots go to `artifacts/screenshots/` (git-ignored).

Accessibility: `axe_page` / `axe_phone_page` are pages whose context bypasses the
Content-Security-Policy (Playwright's `bypass_csp=True`), because our pages allow only
`script-src 'self'` and Playwright injects axe-core as an inline script; `axe_violations(page)`
injects the vendored axe-core (`vendor/axe.min.js`) and runs it on what the page shows now.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
SERIOUS = frozenset({"serious", "critical"})
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API runs its own event loop; Django's async-safety check must allow it.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def axe_page(browser: Any) -> Iterator[Any]:
    """A desktop page (1280 wide) into which axe-core can be injected (the CSP is bypassed)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def axe_phone_page(browser: Any) -> Iterator[Any]:
    """A phone page (390 wide) into which axe-core can be injected (the CSP is bypassed)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        bypass_csp=True,
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary || ""})),
  }));
}"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (all of axe's default rules: WCAG 2.x A and
    AA plus best practices), each `{id, impact, help, nodes: [{target, summary}]}`.

    The page must come from `axe_page`/`axe_phone_page` (or any context with `bypass_csp=True`).
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    return page.evaluate(_AXE_RUN)


def describe_violations(violations: Sequence[dict[str, Any]]) -> str:
    """One line per rule and one per offending element, for test output."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"][:5]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {node['target']} — {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Any, name: str) -> list[dict[str, Any]]:
    """No axe violation of impact "serious" or "critical" on the page; milder ones are printed
    (see them with `pytest -s`) and returned."""
    violations = axe_violations(page)
    serious = [v for v in violations if v["impact"] in SERIOUS]
    others = [v for v in violations if v["impact"] not in SERIOUS]
    if others:
        print(f"\naxe, {name}: {len(others)} minor/moderate\n{describe_violations(others)}")
    assert not serious, f"axe, {name} ({page.url}):\n{describe_violations(serious)}"
    return violations


def screenshot(page: Any, name: str, *, docs: bool = False) -> Path:
    """A full-page PNG in artifacts/screenshots/; `docs=True` also refreshes the README's copy in
    docs/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs:
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)
    return path
