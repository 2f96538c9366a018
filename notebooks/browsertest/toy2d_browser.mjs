// toy2d_browser.mjs drives the toy2d notebook in a real Jupyter Notebook (6.x, the classic UI) with
// headless Chromium, as a reader would: open it, check that opening it does not mark it modified
// (its stored metadata is the kernel's), run all cells, wait for the explorer's confidence map, move
// the "OOD box half-width" slider to its maximum with the keyboard, press Train, and check that the
// map changed and that the new map is the wide box's (more confident around the data than the near
// box's). It stops the explorer with its Stop button.
//
// Run by notebooks/browser_test.go (TestBrowserToy2D), which starts the server. Arguments, as JSON in
// argv[2]: {chrome, url (the notebook's URL with its token), artifacts (folder for screenshots and
// the log), timeoutMs (for running all cells)}.
// Prints one line per stage; exits non-zero with the reason on failure, after a screenshot.
import fs from 'node:fs';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const args = JSON.parse(process.argv[2] || '{}');
for (const k of ['chrome', 'url', 'artifacts']) {
  if (!args[k]) {
    console.error(`toy2d_browser.mjs: missing argument ${k}`);
    process.exit(2);
  }
}
const timeoutMs = args.timeoutMs || 8 * 60 * 1000;
fs.mkdirSync(args.artifacts, {recursive: true});
const logLines = [];
const log = (s) => {
  const line = `${new Date().toISOString()} ${s}`;
  logLines.push(line);
  console.log(line);
};
const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1);

const browser = await puppeteer.launch({
  executablePath: args.chrome,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1400,1200'],
  defaultViewport: {width: 1400, height: 1200},
});
const page = await browser.newPage();
page.on('console', (m) => logLines.push(`console.${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => logLines.push(`pageerror: ${e.message}`));

async function shot(name, handle) {
  const file = path.join(args.artifacts, name);
  try {
    if (handle) {
      await handle.screenshot({path: file});
    } else {
      await page.screenshot({path: file});
    }
    log(`screenshot ${file}`);
  } catch (e) {
    log(`screenshot ${file} failed: ${e.message}`);
  }
}

async function finish(code, reason) {
  if (code !== 0) {
    log(`FAIL: ${reason}`);
    await shot('failure.png');
  } else {
    log(`PASS in ${secs()} s`);
  }
  fs.writeFileSync(path.join(args.artifacts, 'browser.log'), logLines.join('\n') + '\n');
  await browser.close();
  process.exit(code);
}

// The explorer's output (sliders, buttons, map, the line under it): that of the last code cell,
// scrolled into view (the notebook scrolls inside its own <div>, which element screenshots do not
// follow).
async function exploreOutput() {
  const h = await page.evaluateHandle(() => {
    const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code');
    return cells[cells.length - 1].element[0].querySelector('.output_wrapper');
  });
  await h.evaluate((el) => el.scrollIntoView({block: 'start'}));
  await new Promise((r) => setTimeout(r, 300));
  return h;
}

// Problems in the code cells' outputs: errors, and what GoNB writes on stderr when a cell fails.
const problems = () => page.evaluate(() => {
  const found = [];
  Jupyter.notebook.get_cells().forEach((c, i) => {
    if (c.cell_type !== 'code') return;
    for (const o of c.output_area.outputs) {
      if (o.output_type === 'error') found.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
      if (o.output_type === 'stream' && o.name === 'stderr' && /^(panic: |exit status \d+|fatal error: )/m.test(o.text)) {
        found.push(`cell ${i}: ${o.text.slice(0, 300)}`);
      }
    }
  });
  return found;
});

try {
  log(`opening ${args.url.replace(/token=[^&]+/, 'token=…')}`);
  await page.goto(args.url, {waitUntil: 'load', timeout: 60000});
  await page.waitForFunction(
      () => globalThis.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel &&
        Jupyter.notebook.kernel.info_reply && Jupyter.notebook.kernel.info_reply.language_info,
      {timeout: 120000, polling: 250});
  // kernel_ready has been handled (it sets language_info); give the UI a moment, then look.
  await new Promise((r) => setTimeout(r, 1000));
  const opened = await page.evaluate(() => ({
    dirty: Jupyter.notebook.dirty,
    stored: Jupyter.notebook.metadata.language_info,
    kernel: Jupyter.notebook.kernel.info_reply.language_info,
  }));
  log(`kernel ready after ${secs()} s; language_info ${JSON.stringify(opened.kernel)}; notebook modified on opening: ${opened.dirty}`);
  await shot('1-opened.png');
  if (opened.dirty) {
    await finish(1, 'opening the notebook marked it modified (its stored metadata differs from the kernel\'s)');
  }
  await page.evaluate(() => Jupyter.notebook.set_autosave_interval(0));

  log('running all cells');
  await page.evaluate(() => Jupyter.notebook.execute_all_cells());
  // Done when the explorer shows its first map; fail early on an error output.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await page.evaluate(() => {
      const img = document.getElementById('confcal-explore-map');
      return !!(img && img.src.startsWith('data:image/png') && document.getElementById('confcal-explore-status'));
    });
    if (ready) break;
    const p = await problems();
    if (p.length > 0) await finish(1, `error output while running all cells:\n  ${p.join('\n  ')}`);
    if (Date.now() > deadline) await finish(1, `no explorer map ${timeoutMs / 1000} s after running all cells`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const p = await problems();
  if (p.length > 0) await finish(1, `error output:\n  ${p.join('\n  ')}`);
  const before = await page.evaluate(() => ({
    src: document.getElementById('confcal-explore-map').src,
    status: document.getElementById('confcal-explore-status').textContent,
  }));
  log(`all cells ran; explorer ready after ${secs()} s: ${before.status}`);
  await shot('2-explorer-default.png', await exploreOutput());

  // Move the box slider with the keyboard, as a reader would: End = its maximum (50).
  const slider = await page.$('#confcal-explore-box');
  if (!slider) await finish(1, 'no slider #confcal-explore-box');
  await slider.focus();
  await page.keyboard.press('End');
  await page.waitForFunction(
      () => document.getElementById('confcal-explore-box').nextElementSibling.textContent.includes('[-50,50]'),
      {timeout: 30000, polling: 200});
  log('moved the box slider to 50: the program updated its label');

  await (await page.$('#confcal-explore-train')).click();
  log('pressed Train');
  await page.waitForFunction(
      (old) => {
        const s = document.getElementById('confcal-explore-status');
        const img = document.getElementById('confcal-explore-map');
        return s && img && s.textContent !== old.status && img.src !== old.src;
      },
      {timeout: 120000, polling: 250}, before);
  const after = await page.evaluate(() => ({
    src: document.getElementById('confcal-explore-map').src,
    status: document.getElementById('confcal-explore-status').textContent,
  }));
  log(`retrained after ${secs()} s: ${after.status}`);
  await shot('3-explorer-box50.png', await exploreOutput());

  if (!before.status.includes('box [-20,20]²') || !after.status.includes('box [-50,50]²')) {
    await finish(1, `the status lines do not name the boxes [-20,20]² then [-50,50]²: "${before.status}", "${after.status}"`);
  }
  if (after.src === before.src) await finish(1, 'the map did not change');
  // Figure 1's effect: OOD points over the whole plane leave the classifier confident on much more
  // of the square around the data than OOD points near it.
  const share = (s) => Number((/confident \(> 0\.9\) on ([\d.]+)%/.exec(s) || [])[1]);
  const [shareNear, shareWide] = [share(before.status), share(after.status)];
  log(`confident share around the data: near box ${shareNear}%, whole plane ${shareWide}%`);
  if (!(shareWide > shareNear + 5)) {
    await finish(1, `the wide box's map is not more confident around the data (${shareWide}% vs ${shareNear}%)`);
  }

  await (await page.$('#confcal-explore-stop')).click();
  await page.waitForFunction(() => Jupyter.notebook.get_cells().some((c) => c.cell_type === 'code' &&
      c.output_area.outputs.some((o) => o.output_type === 'stream' && o.text.includes('Stopped'))),
  {timeout: 30000, polling: 250});
  log('pressed Stop: the cell ended');
  await finish(0);
} catch (e) {
  await finish(1, e.stack || String(e));
}
