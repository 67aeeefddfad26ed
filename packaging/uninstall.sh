#!/usr/bin/env bash
# Remove what packaging/install.sh put in place: the bundle, the command, the menu entry and
# the icon. Your settings, conversation history and logs stay unless you pass --purge.
#   packaging/uninstall.sh [--purge]
set -euo pipefail
purge=0
case "${1:-}" in
  "") ;;
  --purge) purge=1 ;;
  *) echo "usage: uninstall.sh [--purge]" >&2; exit 2 ;;
esac
data="${XDG_DATA_HOME:-$HOME/.local/share}"
lib="$HOME/.local/lib/harken"
bin="$HOME/.local/bin/harken"
# The command is ours only if it is the symlink install.sh made.
if [ -L "$bin" ] && [ "$(readlink "$bin")" = "$lib/harken" ]; then
  rm -f "$bin"
fi
rm -rf "$lib" "$lib.new"
rm -f "$data/applications/harken.desktop" "$data/icons/hicolor/scalable/apps/harken.svg"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 \
  && gtk-update-icon-cache -q -t -f "$data/icons/hicolor" 2>/dev/null || true
echo "uninstall: Harken's app, command, menu entry and icon are removed"

config="${XDG_CONFIG_HOME:-$HOME/.config}/harken"
userdata="$data/harken"
state="${XDG_STATE_HOME:-$HOME/.local/state}/harken"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/harken"
if [ "$purge" = 1 ]; then
  rm -rf "$config" "$userdata" "$state" "$cache"
  echo "uninstall: settings, history, logs and cache removed (API keys stay in the keyring:"
  echo "           remove the entries of service 'harken' with your keyring manager)"
else
  echo "uninstall: kept your settings ($config), history ($userdata) and logs ($state);"
  echo "           'uninstall.sh --purge' removes them too"
fi
