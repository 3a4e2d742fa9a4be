# Shared by bin/test and bin/demo (sourced, not run): section headers, timing, system
# packages and the project's virtualenv. Expects ROOT to be the repository's top folder.

VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"

if [[ -t 1 ]]; then
    _bold=$'\e[1m' _red=$'\e[31m' _green=$'\e[32m' _yellow=$'\e[33m' _reset=$'\e[0m'
else
    _bold="" _red="" _green="" _yellow="" _reset=""
fi

section() { printf '\n%s==> %s%s\n' "$_bold" "$*" "$_reset"; }
note() { printf '    %s\n' "$*"; }
warn() { printf '%s!!  %s%s\n' "$_yellow" "$*" "$_reset" >&2; }
die() {
    printf '%sxx  %s%s\n' "$_red" "$*" "$_reset" >&2
    exit 1
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# Print the Debian packages among "$@" that are not installed.
missing_packages() {
    local package
    for package in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            echo "$package"
        fi
    done
}

# Install the Debian packages among "$@" that are missing, with apt-get as root or through
# sudo without a password; otherwise say what is missing and carry on.
ensure_packages() {
    command -v dpkg-query >/dev/null || {
        warn "not a Debian system: install by hand if missing: $*"
        return 0
    }
    local missing
    mapfile -t missing < <(missing_packages "$@")
    if ((${#missing[@]} == 0)); then
        note "system packages present: $*"
        return 0
    fi
    local -a apt=(apt-get)
    if ((EUID != 0)); then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            apt=(sudo apt-get)
        else
            warn "missing system packages (need root to install): ${missing[*]}"
            warn "install them with: sudo apt-get install ${missing[*]}"
            return 0
        fi
    fi
    note "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${apt[@]}" update -qq
    "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"
}

# Create .venv if missing and install the project into it (editable) with the given extras,
# skipping the install while pyproject.toml is unchanged since the last one.
ensure_venv() {
    local extras="$1" spec="." stamp digest
    [[ -n "$extras" ]] && spec=".[$extras]"
    stamp="$VENV/.surveyapp-installed-${extras:-base}"
    digest="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [[ ! -x "$VENV/bin/python" ]]; then
        note "creating $VENV with $("$PYTHON" --version)"
        "$PYTHON" -m venv "$VENV"
    fi
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$digest" ]]; then
        note "virtualenv up to date ($spec; pyproject.toml unchanged)"
        return 0
    fi
    note "installing $spec into $VENV (the first time takes a few minutes)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    (cd "$ROOT" && "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --progress-bar off -e "$spec")
    echo "$digest" >"$stamp"
    # A test install holds everything the base install does.
    [[ -n "$extras" ]] && echo "$digest" >"$VENV/.surveyapp-installed-base"
    return 0
}
