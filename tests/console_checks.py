"""What a phone user needs of every console page, measured in a real browser (tests/browser.py):
tap targets of at least 44 × 44 CSS px, text of at least 12 px, and text colours with a
contrast of at least 4.5:1 against what is really behind them, in the light and the dark
scheme (``set_color_scheme`` emulates ``prefers-color-scheme`` through CDP).

Each check returns the offenders (an empty list when the page passes), described so a failure
names the element, its size or colours and its text.
"""

from __future__ import annotations

from typing import Any

from selenium.webdriver.chrome.webdriver import WebDriver

MIN_TAP = 44.0  # CSS px: Apple's HIG and WCAG 2.5.5 (AAA); Material asks 48 dp
MIN_CONTRAST = 4.5  # WCAG 1.4.3 (AA) for normal text
MIN_TEXT_PX = 12.0

# Every control a finger may aim at. Two ways a target may be larger than its own box, each a
# real enlargement of what a tap hits:
# - a radio button or check box inside its <label>: tapping the label toggles it;
# - a stretched link (its ::after absolutely positioned over the nearest positioned ancestor,
#   the report's card): tapping anywhere on the card follows the link.
# Nothing else is exempt: the console has no links inside running text.
_TAP_JS = """
const MIN = arguments[0];
const found = [];
function describe(el) {
  let label = el.tagName.toLowerCase();
  if (el.id) label += '#' + el.id;
  for (const c of el.classList) label += '.' + c;
  if (el.type && el.tagName === 'INPUT') label += '[type=' + el.type + ']';
  return label;
}
function positionedAncestor(el) {
  for (let p = el.parentElement; p; p = p.parentElement) {
    if (getComputedStyle(p).position !== 'static') return p;
  }
  return document.documentElement;
}
const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
for (const el of document.querySelectorAll(sel)) {
  let r = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  if ((r.width === 0 && r.height === 0) || style.visibility === 'hidden') continue;  // not shown
  let how = 'own box';
  const label = el.closest('label');
  if ((el.type === 'radio' || el.type === 'checkbox') && label) {
    r = label.getBoundingClientRect();
    how = 'its label';
  }
  const after = getComputedStyle(el, '::after');
  if (el.tagName === 'A' && after.content !== 'none' && after.position === 'absolute') {
    r = positionedAncestor(el).getBoundingClientRect();
    how = 'stretched over its card';
  }
  if (r.width < MIN - 0.5 || r.height < MIN - 0.5) {
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
    found.push({label: describe(el), width: r.width, height: r.height, how: how,
                text: text.replace(/\\s+/g, ' ').slice(0, 40)});
  }
}
return found;
"""


def small_tap_targets(driver: WebDriver) -> list[str]:
    """Every link, button and field shown whose tap area is under 44 × 44 px."""
    found: list[dict[str, Any]] = driver.execute_script(_TAP_JS, MIN_TAP)
    return [
        f"{f['label']} {f['width']:.0f}×{f['height']:.0f} px ({f['how']}) {f['text']!r}"
        for f in found
    ]


_TEXT_JS = """
const MINC = arguments[0], MINPX = arguments[1];
function rgba(value) {
  const m = value.match(/rgba?\\(([^)]*)\\)/);
  if (!m) return null;
  const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}
function over(top, below) {  // top composited over an opaque colour
  const a = top[3];
  return [0, 1, 2].map(i => top[i] * a + below[i] * (1 - a)).concat([1]);
}
function background(el) {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c && c[3] > 0) layers.push(c);
    if (c && c[3] >= 1) break;
  }
  let colour = [255, 255, 255, 1];  // the canvas, had nothing been opaque
  for (let i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
  return colour;
}
function luminance(c) {
  const [r, g, b] = c.slice(0, 3).map(v => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function ratio(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
function describe(el) {
  let label = el.tagName.toLowerCase();
  for (const c of el.classList) label += '.' + c;
  return label;
}
const lowContrast = [], tiny = [];
function check(el, style, text, what) {
  const bg = background(el);
  const fg = over(rgba(style.color), bg);
  const r = ratio(fg, bg);
  if (r < MINC) {
    lowContrast.push({label: describe(el) + what, ratio: r, color: style.color,
                      background: 'rgb(' + bg.slice(0, 3).map(Math.round).join(', ') + ')',
                      text: text.slice(0, 30)});
  }
  const px = parseFloat(style.fontSize);
  if (px < MINPX) tiny.push({label: describe(el) + what, px: px, text: text.slice(0, 30)});
}
for (const el of document.querySelectorAll('body *')) {
  const style = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  if ((r.width === 0 && r.height === 0) || style.visibility === 'hidden') continue;
  if (el.closest('svg')) continue;
  let own = '';
  for (const n of el.childNodes) if (n.nodeType === 3) own += n.textContent;
  own = own.trim();
  const control = ['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(el.tagName)
    && el.type !== 'radio' && el.type !== 'checkbox';
  if (own || control) check(el, style, own || el.value || '', '');
  const before = getComputedStyle(el, '::before');
  const content = before.content;
  if (content && content !== 'none' && content !== 'normal' && content !== '""') {
    check(el, before, content, '::before');
  }
}
return {lowContrast: lowContrast, tiny: tiny};
"""


def text_problems(driver: WebDriver) -> tuple[list[str], list[str]]:
    """(low contrast, too small): every shown text whose colour has less than 4.5:1 against
    its effective background (the backgrounds under it composited), and every text under
    12 px."""
    found: dict[str, list[dict[str, Any]]] = driver.execute_script(
        _TEXT_JS, MIN_CONTRAST, MIN_TEXT_PX
    )
    low = [
        f"{f['label']} {f['ratio']:.2f}:1 ({f['color']} on {f['background']}) {f['text']!r}"
        for f in found["lowContrast"]
    ]
    tiny = [f"{f['label']} {f['px']:.1f} px {f['text']!r}" for f in found["tiny"]]
    return low, tiny


def set_color_scheme(driver: WebDriver, scheme: str) -> None:
    """Emulate ``prefers-color-scheme: light`` or ``dark`` for the pages that follow."""
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"media": "", "features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )


def open_folds(driver: WebDriver) -> int:
    """Open every folded <details> (the filters on a phone); how many there were."""
    count: int = driver.execute_script(
        "const d = document.querySelectorAll('details:not([open])');"
        "d.forEach(e => { e.open = true; }); return d.length;"
    )
    return count
