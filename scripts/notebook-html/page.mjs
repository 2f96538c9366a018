// page.mjs FRAGMENT.html OUT.html TITLE NOTE wraps nbconvert's "basic" HTML (the notebook's body)
// into one page that reads offline: notebook.css inline, and the TeX math ($...$, $$...$$, \(...\),
// \[...\], outside <pre> and <code>) typeset into inline SVG by MathJax 3 (mathjax-full) with the one
// stylesheet that SVG needs, so that no script, font or stylesheet is loaded from anywhere.
// It fails on a TeX error and prints how many formulas it typeset.
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {mathjax} from 'mathjax-full/js/mathjax.js';
import {TeX} from 'mathjax-full/js/input/tex.js';
import {SVG} from 'mathjax-full/js/output/svg.js';
import {liteAdaptor} from 'mathjax-full/js/adaptors/liteAdaptor.js';
import {RegisterHTMLHandler} from 'mathjax-full/js/handlers/html.js';
import {AllPackages} from 'mathjax-full/js/input/tex/AllPackages.js';

const [fragmentPath, output, title, note] = process.argv.slice(2);
if (!fragmentPath || !output || !title) {
  console.error('usage: node page.mjs FRAGMENT.html OUT.html TITLE [NOTE]');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const css = fs.readFileSync(path.join(here, 'notebook.css'), 'utf8');
const page = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
${css}</style>
</head>
<body>
<main class="notebook">
${note ? `<p class="nbhtml-note">${escape(note)}</p>\n` : ''}${fs.readFileSync(fragmentPath, 'utf8')}
</main>
</body>
</html>
`;

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const errors = [];
const doc = mathjax.document(page, {
  InputJax: new TeX({
    packages: AllPackages.filter((p) => p !== 'bussproofs'),
    inlineMath: [['$', '$'], ['\\(', '\\)']],
    displayMath: [['$$', '$$'], ['\\[', '\\]']],
    processEscapes: true,
    formatError: (jax, err) => {
      errors.push(err.message);
      return jax.formatError(err);
    },
  }),
  OutputJax: new SVG({fontCache: 'global'}),
});
doc.render();
if (errors.length > 0) {
  console.error(`page.mjs: ${fragmentPath}: TeX errors:\n  ${errors.join('\n  ')}`);
  process.exit(1);
}
adaptor.append(adaptor.head(doc.document), doc.outputJax.styleSheet(doc));
fs.writeFileSync(output, adaptor.doctype(doc.document) + '\n' + adaptor.outerHTML(adaptor.root(doc.document)) + '\n');
console.log(`page.mjs: ${Array.from(doc.math).length} formulas typeset into SVG: ${output}`);
