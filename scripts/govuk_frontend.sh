#!/usr/bin/env bash
# Copy the pinned GOV.UK Frontend release's built assets and the pinned htmx into app/web/static/.
#
# The copies are committed, so `make run` needs nothing from npm. Run this only to move to a new
# release: change the versions below (GOVUK_FRONTEND_VERSION must be the release that the pinned
# govuk-frontend-jinja in pyproject.toml was tested against — its README has the table), run the
# script, check the pages, and commit app/web/static/ with VERSIONS.txt.
set -euo pipefail

GOVUK_FRONTEND_VERSION=6.3.0   # matches govuk-frontend-jinja 4.1.0
HTMX_VERSION=2.0.11

root="$(cd "$(dirname "$0")/.." && pwd)"
static="$root/app/web/static"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "govuk-frontend@$GOVUK_FRONTEND_VERSION" >/dev/null
npm pack --silent "htmx.org@$HTMX_VERSION" >/dev/null
mkdir govuk htmx
tar -xzf "govuk-frontend-$GOVUK_FRONTEND_VERSION.tgz" -C govuk
tar -xzf "htmx.org-$HTMX_VERSION.tgz" -C htmx

dist="govuk/package/dist/govuk"
rm -rf "$static/govuk"
mkdir -p "$static/govuk"
# Only what a browser loads: the minified stylesheet and script (with their source maps left
# out), the fonts, the images and the web app manifest.
cp "$dist"/govuk-frontend.min.css "$dist"/govuk-frontend.min.js "$static/govuk/"
cp -R "$dist/assets/fonts" "$dist/assets/images" "$static/govuk/"
cp "$dist/assets/manifest.json" "$static/govuk/"
cp htmx/package/dist/htmx.min.js "$static/htmx.min.js"

{
  echo "# Written by scripts/govuk_frontend.sh; do not edit by hand."
  echo "govuk-frontend $GOVUK_FRONTEND_VERSION (npm), for govuk-frontend-jinja 4.1.0 (PyPI)"
  echo "htmx.org $HTMX_VERSION (npm)"
  echo
  echo "# sha256 of every copied file (app/web/static/casework.css is ours, not listed)"
  cd "$static"
  { echo htmx.min.js; find govuk -type f; } | LC_ALL=C sort | xargs sha256sum
} >"$work/VERSIONS.txt"
mv "$work/VERSIONS.txt" "$static/VERSIONS.txt"
echo "GOV.UK Frontend $GOVUK_FRONTEND_VERSION and htmx $HTMX_VERSION copied into $static"
