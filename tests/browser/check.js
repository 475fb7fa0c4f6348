#!/usr/bin/env node
// check.js — opens HTML pages in Debian's headless Chromium (through playwright-core, which downloads
// no browser of its own) at 1400 px, scripts off, and checks what a reader would see:
//   wide      an element wider than the viewport, or sticking out of it (every <details> opened first,
//             so folded parts are checked too)
//   broken    an <img> that did not load, an inline <svg> that drew nothing, a request that failed
//   external  a request for anything but the page's own folder (the report is self-contained)
//   overlap   two legend entries whose boxes overlap (entries are the SVG groups with ids
//             legend<k>-entry<i>-text / -handle, which scripts/lib/plots.py gives them)
//
//   node check.js [--screenshot OUT.png] PAGE.html...
// Prints one JSON object per page ({"page", "problems": [...]}) and exits 1 when a page has a problem,
// 2 when Chromium cannot be started. With --screenshot (one page), the whole page as it loaded.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const WIDTH = 1400;
const CHROMIUM = process.env.FFIBENCH_CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];

// Runs in the page: every problem found, as text.
function measure(width) {
  const problems = [];
  const describe = (e) => {
    const id = e.id ? `#${e.id}` : '';
    const cls = typeof e.className === 'string' && e.className ? `.${e.className.split(' ')[0]}` : '';
    const text = (e.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60);
    return `<${e.tagName.toLowerCase()}${id}${cls}> "${text}"`;
  };
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
  const scroll = document.documentElement.scrollWidth;
  if (scroll > width) problems.push(`wide: the page is ${scroll} px wide, the viewport ${width} px`);
  let wide = 0;
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > width + 0.5 || r.left < -0.5) {
      if (wide++ < 10) problems.push(`wide: ${describe(e)} spans x ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  if (wide > 10) problems.push(`wide: ${wide - 10} more elements`);
  for (const img of document.images) {
    if (!img.complete || img.naturalWidth === 0) problems.push(`broken: image ${img.getAttribute('src')} did not load`);
  }
  for (const svg of document.querySelectorAll('svg')) {
    if (svg.parentElement.closest('svg')) continue;
    const r = svg.getBoundingClientRect();
    let drawn = false;
    try { drawn = svg.getBBox().width > 0; } catch (err) { drawn = false; }
    if (r.width < 10 || r.height < 10 || !drawn) problems.push(`broken: ${describe(svg)} drew nothing`);
  }
  // legend entries: the union of each entry's boxes, compared pairwise within each chart
  const charts = new Map();
  for (const e of document.querySelectorAll('[id*="legend"][id*="-entry"]')) {
    const m = e.id.match(/legend(\d+)-entry(\d+)-(text|handle)$/);
    const svg = e.closest('svg');
    if (!m || !svg) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (!charts.has(svg)) charts.set(svg, new Map());
    const key = `legend ${m[1]} entry ${m[2]}`;
    const box = charts.get(svg).get(key);
    const label = m[3] === 'text' ? (e.textContent || '').trim() : null;
    if (!box) charts.get(svg).set(key, { l: r.left, t: r.top, r: r.right, b: r.bottom, label });
    else {
      box.l = Math.min(box.l, r.left); box.t = Math.min(box.t, r.top);
      box.r = Math.max(box.r, r.right); box.b = Math.max(box.b, r.bottom);
      box.label = box.label || label;
    }
  }
  let n = 0;
  for (const entries of charts.values()) {
    const list = [...entries.entries()];
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const [ka, a] = list[i];
        const [kb, b] = list[j];
        const w = Math.min(a.r, b.r) - Math.max(a.l, b.l);
        const h = Math.min(a.b, b.b) - Math.max(a.t, b.t);
        if (w > 0.5 && h > 0.5 && n++ < 10) {
          problems.push(`overlap: legend entries "${a.label || ka}" and "${b.label || kb}" overlap by ` +
                        `${w.toFixed(1)} x ${h.toFixed(1)} px`);
        }
      }
    }
  }
  return { problems, legendEntries: [...charts.values()].reduce((s, m) => s + m.size, 0),
           charts: document.querySelectorAll('svg').length, height: document.documentElement.scrollHeight };
}

async function main() {
  const args = process.argv.slice(2);
  let shot = null;
  const pages = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--screenshot') shot = args[++i];
    else pages.push(args[i]);
  }
  if (!pages.length || (shot && pages.length !== 1)) {
    console.error('usage: check.js [--screenshot OUT.png] PAGE.html...');
    process.exit(2);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ffibench-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: FLAGS, javaScriptEnabled: false,
      viewport: { width: WIDTH, height: 1000 }, deviceScaleFactor: 1,
    });
  } catch (err) {
    console.error(`check.js: cannot start ${CHROMIUM}: ${err.message.split('\n')[0]}`);
    fs.rmSync(profile, { recursive: true, force: true });
    process.exit(2);
  }
  let failed = false;
  try {
    for (const file of pages) {
      const page = await context.newPage();
      const dir = path.dirname(path.resolve(file));
      const problems = [];
      page.on('requestfailed', (r) => problems.push(`broken: ${r.url()} failed (${r.failure() && r.failure().errorText})`));
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('data:') || (url.startsWith('file://') && decodeURIComponent(new URL(url).pathname).startsWith(dir))) {
          return route.continue();
        }
        problems.push(`external: the page asked for ${url}`);
        return route.abort();
      });
      await page.goto('file://' + path.resolve(file), { waitUntil: 'load' });
      if (shot) await page.screenshot({ path: shot, fullPage: true });
      const found = await page.evaluate(measure, WIDTH);
      const result = { page: file, charts: found.charts, legendEntries: found.legendEntries, height: found.height,
                       problems: problems.concat(found.problems) };
      if (result.problems.length) failed = true;
      console.log(JSON.stringify(result));
      await page.close();
    }
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => { console.error(err); process.exit(2); });
