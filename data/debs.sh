# Sourced by data/fetch-*.sh: fetch_debs DIR PKG... downloads each Debian
# package's .deb into DIR (kept: a later run skips it) with apt-get download,
# running apt-get update once and retrying when a download fails; needs say().
fetch_debs() {
  _dir=$1; shift
  mkdir -p "$_dir"
  for _p in "$@"; do
    ls "$_dir/${_p}"_*.deb >/dev/null 2>&1 && continue
    say "downloading $_p from Debian"
    if ! (cd "$_dir" && apt-get download -qq "$_p" >/dev/null 2>&1); then
      say "apt-get download $_p failed; running apt-get update and retrying"
      apt-get update -qq >/dev/null 2>&1 || true
      (cd "$_dir" && apt-get download -qq "$_p" >/dev/null) || { say "cannot download $_p"; exit 1; }
    fi
  done
}
