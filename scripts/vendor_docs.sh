#!/usr/bin/env bash
# Fetch the committed browser assets again from the npm registry (npm pack, no install):
# Swagger UI and ReDoc for /docs and /redoc, axe-core for the browser tests.
#   scripts/vendor_docs.sh [SWAGGER_UI_VERSION] [REDOC_VERSION] [AXE_VERSION]
# Then update the versions and sha256 sums in the README.md beside each copy.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
swagger="${1:-5.35.0}" redoc="${2:-2.5.4}" axe="${3:-4.14.1}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "swagger-ui-dist@$swagger" "redoc@$redoc" "axe-core@$axe" >/dev/null
for tarball in *.tgz; do
    mkdir "${tarball%.tgz}" && tar xzf "$tarball" -C "${tarball%.tgz}"
    sha256sum "$tarball"
done
vendor="$root/src/direkte/web/static/vendor"
s="swagger-ui-dist-$swagger/package" r="redoc-$redoc/package" a="axe-core-$axe/package"
cp "$s"/{swagger-ui-bundle.js,swagger-ui-bundle.js.LICENSE.txt,swagger-ui.css,oauth2-redirect.js,favicon-32x32.png,LICENSE,NOTICE} \
    "$vendor/swagger-ui/"
cp "$r"/bundles/{redoc.standalone.js,redoc.standalone.js.LICENSE.txt} "$r/LICENSE" "$vendor/redoc/"
# The source map is not shipped; drop its reference so that no browser asks for it.
sed -i '/^\/\/# sourceMappingURL=/d' "$vendor/redoc/redoc.standalone.js"
# The sidebar's "API docs by Redocly" logo is an image on Redocly's CDN: an empty data
# URL instead, which fails to load, so ReDoc leaves the logo out (its onError).
sed -i 's#"https://cdn.redoc.ly/redoc/logo-mini.svg"#"data:,"#' "$vendor/redoc/redoc.standalone.js"
cp "$a"/{axe.min.js,LICENSE,LICENSE-3RD-PARTY.txt} "$root/tests/browser/vendor/"
