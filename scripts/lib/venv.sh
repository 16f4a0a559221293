# Sourced by scripts/test and scripts/demo (from the repository root): the project's .venv.
#
# ensure_venv EXTRAS: create .venv if missing and `pip install -e '.[EXTRAS]'`, but only when
# pyproject.toml changed since the last install of those extras (a stamp file in .venv holds
# its hash), so a rerun costs nothing. Set DRY_RUN=true to only say what would happen.

PY="${PYTHON:-python3}"

# The sha256 of a file, as a stamp's content.
file_hash() { sha256sum "$1" | cut -d' ' -f1; }

# True when stamp file $1 does not hold $2.
stale() { [ "$(cat "$1" 2>/dev/null)" != "$2" ]; }

ensure_venv() {
  local extras="$1" stamp=".venv/.installed-${1//,/-}" want
  want="$(file_hash pyproject.toml)"
  if [ ! -x .venv/bin/python ]; then
    echo "   .venv: create it, pip install -e '.[$extras]'"
    [ "${DRY_RUN:-false}" = true ] && return
    "$PY" -m venv .venv
  elif ! stale "$stamp" "$want"; then
    echo "   .venv: up to date for '.[$extras]' (pyproject.toml unchanged)"
    return
  else
    echo "   .venv: pip install -e '.[$extras]' (new extras, or pyproject.toml changed since they were installed)"
    [ "${DRY_RUN:-false}" = true ] && return
  fi
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$extras]"
  echo "$want" >"$stamp"
}
