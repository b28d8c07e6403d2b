#!/usr/bin/env bash
# Refresh the JavaScript the website serves from its own static folder (book/static/),
# so that the built book works offline: no CDN request at all.
#
#   MathJax 3      npm "mathjax"                      Apache-2.0    -> book/static/mathjax/
#   widget manager npm "@jupyter-widgets/html-manager" BSD-3-Clause -> book/static/widgets/
#
# Only the files the pages load at run time are kept:
#   mathjax/es5/tex-chtml-full.js            TeX input + CommonHTML output + every TeX extension
#                                            in one file (so no extension is fetched on demand)
#   mathjax/es5/output/chtml/fonts/woff-v2/  the fonts that CommonHTML output loads
#   widgets/embed.js                         renders saved ipywidgets state (no require.js needed)
#   widgets/*.woff2                          the Font Awesome icons that embed.js's CSS refers to
#                                            (every current browser takes woff2 first)
# Not kept: the speech / explorer (a11y) extensions, which MathJax only loads when a reader
# turns them on in its right-click menu.
#
# Usage: tools/vendor_static.sh   (needs npm; then rebuild the book and run the site tests)
set -euo pipefail

MATHJAX_VERSION=3.2.2
HTML_MANAGER_VERSION=1.0.15

root="$(cd "$(dirname "$0")/.." && pwd)"
static="$root/book/static"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
npm pack --silent "mathjax@$MATHJAX_VERSION" "@jupyter-widgets/html-manager@$HTML_MANAGER_VERSION" >/dev/null
mkdir mj wm
tar xzf "mathjax-$MATHJAX_VERSION.tgz" -C mj
tar xzf "jupyter-widgets-html-manager-$HTML_MANAGER_VERSION.tgz" -C wm

# MathJax
rm -rf "$static/mathjax/es5"
mkdir -p "$static/mathjax/es5/output/chtml/fonts"
cp mj/package/LICENSE "$static/mathjax/LICENSE"
cp mj/package/es5/tex-chtml-full.js "$static/mathjax/es5/"
cp -r mj/package/es5/output/chtml/fonts/woff-v2 "$static/mathjax/es5/output/chtml/fonts/"

# ipywidgets html manager (the standalone bundle, not embed-amd.js: that one is 3.6 MB
# and needs require.js)
rm -rf "$static/widgets"
mkdir -p "$static/widgets"
cp wm/package/dist/embed.js wm/package/dist/embed.js.LICENSE.txt "$static/widgets/"
cp wm/package/dist/*.woff2 "$static/widgets/"

cat >"$static/README.md" <<EOF
# Vendored JavaScript (written by tools/vendor_static.sh: do not edit by hand)

The website loads these from its own \`_static/\` folder, so it works offline; Sphinx copies
this folder there (\`html_static_path\` in \`_config.yml\`).

| folder | npm package | version | licence |
| --- | --- | --- | --- |
| \`mathjax/\` | \`mathjax\` | $MATHJAX_VERSION | Apache-2.0 (\`mathjax/LICENSE\`) |
| \`widgets/\` | \`@jupyter-widgets/html-manager\` | $HTML_MANAGER_VERSION | BSD-3-Clause (bundled code: \`widgets/embed.js.LICENSE.txt\`) |

Kept: \`mathjax/es5/tex-chtml-full.js\` (\`mathjax_path\`) with its CommonHTML woff fonts, and
the ipywidgets standalone bundle \`widgets/embed.js\` (\`nb_ipywidgets_js\`) with its Font
Awesome woff2 fonts. To refresh or upgrade: edit the versions at the top of
\`tools/vendor_static.sh\`, run it, rebuild the book (\`make book\`) and run
\`pytest -m site tests/test_site.py\`.
EOF
du -sh "$static"
