#!/usr/bin/env bash
# Install the built bundle for the current user (no root needed), or remove it with
# packaging/uninstall.sh. Build it first with packaging/build.sh.
#   packaging/install.sh [BUNDLE_DIR]      (default: dist/harken)
# Puts:  the bundle        ~/.local/lib/harken/        (replaced as a whole on reinstall)
#        the command       ~/.local/bin/harken         (a symlink)
#        the menu entry    ~/.local/share/applications/harken.desktop
#        the icon          ~/.local/share/icons/hicolor/scalable/apps/harken.svg
# XDG_DATA_HOME moves the last two, as desktops expect. Settings and history are not touched.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="${1:-$here/../dist/harken}"
if [ ! -x "$src/harken" ]; then
  echo "install: no bundle at $src; build it first with packaging/build.sh" >&2
  exit 1
fi
data="${XDG_DATA_HOME:-$HOME/.local/share}"
lib="$HOME/.local/lib/harken"
bin="$HOME/.local/bin"
apps="$data/applications"
icon="$data/icons/hicolor/scalable/apps/harken.svg"

mkdir -p "$(dirname "$lib")" "$bin" "$apps" "$(dirname "$icon")"
rm -rf "$lib.new"
cp -a "$src" "$lib.new"
rm -rf "$lib"
mv "$lib.new" "$lib"
ln -sfn "$lib/harken" "$bin/harken"
cp "$lib/_internal/assets/icons/harken.svg" "$icon"
# The menu entry runs the bundle by its full path: ~/.local/bin is not on every desktop's PATH.
exec_path="$lib/harken"
sed -e "s|^Exec=.*|Exec=\"$exec_path\"|" -e "s|^TryExec=.*|TryExec=$exec_path|" \
  "$here/harken.desktop" > "$apps/harken.desktop.new"
mv "$apps/harken.desktop.new" "$apps/harken.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$apps" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 \
  && gtk-update-icon-cache -q -t -f "$data/icons/hicolor" 2>/dev/null || true

version="$("$lib/harken" --version)" || { echo "install: the installed bundle does not start" >&2; exit 1; }
echo "install: $version installed in $lib"
echo "install: menu entry $apps/harken.desktop, command $bin/harken"
case ":$PATH:" in
  *":$bin:"*) ;;
  *) echo "install: note: $bin is not on your PATH; add it to run 'harken' from a terminal" ;;
esac
echo "install: check it with: harken --self-test"
