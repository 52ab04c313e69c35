#!/usr/bin/env bash
# clickup-members in CI: the one script both the GitHub and the GitLab recipes run.
# Copy it to ci/clickup-members-ci.sh in the repository that holds the member file.
#
#   clickup-members-ci.sh install       install the pinned release, its checksum verified
#   clickup-members-ci.sh check         validate the member file and check its formatting
#   clickup-members-ci.sh plan [ARG…]   plan for a pull/merge request into plan.md (and plan.json)
#   clickup-members-ci.sh comment FILE  post FILE as the request's plan comment, or edit the one there
#   clickup-members-ci.sh apply [ARG…]  apply on the default branch, then push the state
#   clickup-members-ci.sh drift [ARG…]  nightly: open, update or close the drift issue
#   clickup-members-ci.sh report [ARG…] the access review: access-review.csv and access-review.md
#   clickup-members-ci.sh fetch-state   put the recorded state into the work tree
#   clickup-members-ci.sh push-state [FILE…]  record the state (and FILEs) on the state branch
#   clickup-members-ci.sh init-state    create the state branch, once, before the first apply
#
# The state file lives on its own branch (CLICKUP_MEMBERS_STATE_BRANCH), not on the protected
# default branch: it is fetched before every plan and apply and pushed after every apply, a
# partial one too, on top of whatever the branch holds then (a push that loses a race is
# retried). Applies are serialised by the recipes (GitHub `concurrency`, GitLab `resource_group`).
#
# Settings, from the environment:
#   CLICKUP_MEMBERS_FILE           the member file (default clickup/members.yaml), or a folder with
#                                  one file per Workspace (clickup): each has its state beside it
#   CLICKUP_MEMBERS_VERSION        the release to install, e.g. 0.1.0
#   CLICKUP_MEMBERS_SHA256         the SHA-256 of that release's archive for this machine, as
#                                  listed in the release's SHA256SUMS
#   CLICKUP_MEMBERS_REPOSITORY     where releases are published
#                                  (default https://github.com/clickup-members/clickup-members)
#   CLICKUP_MEMBERS_RELEASES       the releases' download base (default REPOSITORY/releases/download)
#   CLICKUP_MEMBERS_BIN_DIR        where to install (default ~/.local/bin)
#   CLICKUP_MEMBERS_STATE_BRANCH   the state branch (default clickup-members-state)
#   CLICKUP_MEMBERS_REMOTE         the git remote (name or URL) of the state branch (default origin)
#   CLICKUP_MEMBERS_PUSH_ATTEMPTS  how many times to try a push of the state (default 5)
#   CLICKUP_MEMBERS_ALLOW_REPLACE  true: apply may replace people (member <-> guest)
#   CLICKUP_TOKEN, CLICKUP_TOKEN_FILE  the ClickUp token; without one, `plan` plans against the
#                                  Workspace recorded by the last apply
#   GITHUB_TOKEN (GitHub) or GITLAB_API_TOKEN (GitLab): for comments and the drift issue
set -euo pipefail

file=${CLICKUP_MEMBERS_FILE:-clickup/members.yaml}
branch=${CLICKUP_MEMBERS_STATE_BRANCH:-clickup-members-state}
remote=${CLICKUP_MEMBERS_REMOTE:-origin}
repository=${CLICKUP_MEMBERS_REPOSITORY:-https://github.com/clickup-members/clickup-members}
bin_dir=${CLICKUP_MEMBERS_BIN_DIR:-$HOME/.local/bin}
marker='<!-- clickup-members plan -->'
drift_label=clickup-drift
export PATH="$bin_dir:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say() { printf 'clickup-members-ci: %s\n' "$*" >&2; }
fail() {
  say "error: $*"
  exit 1
}

# The state file beside the member file: clickup/members.yaml -> clickup/members.state.json.
state_path() {
  local dir stem
  dir=$(dirname "$file")
  stem=$(basename "$file")
  stem=${stem%.*}
  if [ "$dir" = . ]; then
    printf '%s.state.json\n' "$stem"
  else
    printf '%s/%s.state.json\n' "$dir" "$stem"
  fi
}

allow_replace() { [ "${CLICKUP_MEMBERS_ALLOW_REPLACE:-false}" = true ]; }
has_token() { [ -n "${CLICKUP_TOKEN:-}" ] || [ -n "${CLICKUP_TOKEN_FILE:-}" ]; }

# Every git command works from the top of the work tree, where the recipes' paths start.
to_top() {
  local top
  top=$(git rev-parse --show-toplevel 2>/dev/null) || fail "not in a git work tree: run from a checkout of the repository"
  cd "$top"
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

cmd_install() {
  local version=${CLICKUP_MEMBERS_VERSION:-} expected=${CLICKUP_MEMBERS_SHA256:-} target os arch
  [ -n "$version" ] || fail "CLICKUP_MEMBERS_VERSION is not set: name the release to install, e.g. 0.1.0"
  version=${version#v}
  os=$(uname -s)
  arch=$(uname -m)
  case "$os/$arch" in
    Linux/x86_64) target=x86_64-unknown-linux-musl ;;
    Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
    Darwin/x86_64) target=x86_64-apple-darwin ;;
    Darwin/arm64) target=aarch64-apple-darwin ;;
    *) fail "no release is built for $os $arch: install from source with cargo install --locked --git $repository --tag v$version" ;;
  esac
  local name="clickup-members-$version-$target"
  local base=${CLICKUP_MEMBERS_RELEASES:-$repository/releases/download}
  local url="$base/v$version/$name.tar.gz"
  [ -n "$expected" ] || fail "CLICKUP_MEMBERS_SHA256 is not set: copy the checksum of $name.tar.gz from $base/v$version/SHA256SUMS into the recipe, so that only that exact build is installed"
  local work=$tmp/install
  mkdir -p "$work"
  curl --fail --silent --show-error --location --retry 3 --output "$work/$name.tar.gz" "$url" ||
    fail "cannot download $url"
  local actual
  actual=$(sha256 "$work/$name.tar.gz")
  [ "$actual" = "$expected" ] ||
    fail "$name.tar.gz does not have the pinned checksum (CLICKUP_MEMBERS_SHA256 $expected, downloaded $actual): nothing was installed"
  tar -xzf "$work/$name.tar.gz" -C "$work"
  mkdir -p "$bin_dir"
  install -m 0755 "$work/$name/clickup-members" "$bin_dir/clickup-members"
  if [ -n "${GITHUB_PATH:-}" ]; then
    printf '%s\n' "$bin_dir" >>"$GITHUB_PATH"
  fi
  local installed
  installed=$("$bin_dir/clickup-members" --version)
  [ "$installed" = "clickup-members $version" ] ||
    fail "the archive holds \"$installed\", not clickup-members $version"
  say "installed $installed ($target, sha256 $actual) in $bin_dir"
}

cmd_check() {
  clickup-members validate -f "$file"
  clickup-members fmt --check --diff -f "$file"
}

# The state files: the one beside the member file, or with a folder of Workspace files
# (CLICKUP_MEMBERS_FILE=clickup) the one beside each Workspace file; one a line.
state_paths() {
  if [ -d "$file" ]; then
    local each
    for each in "$file"/*.yaml "$file"/*.yml; do
      [ -f "$each" ] || continue
      file=$each state_path
    done
  else
    state_path
  fi
}

# Puts the state files recorded on the state branch into the work tree. Only those files are
# taken from the branch: nothing else there can change what the job runs. With `required`, a
# missing branch is an error.
cmd_fetch_state() {
  local need=${1:-optional} state code=0 states
  mapfile -t states < <(state_paths)
  to_top
  git ls-remote --exit-code --heads "$remote" "$branch" >/dev/null 2>&1 || code=$?
  if [ "$code" = 2 ]; then
    if [ "$need" = required ]; then
      fail "the state branch '$branch' does not exist: an apply records what it did there. Create it once with \`bash ci/clickup-members-ci.sh init-state\` (README: the workflow), or set CLICKUP_MEMBERS_STATE_BRANCH to the branch that holds the state"
    fi
    say "no state branch '$branch' yet: planning without a recorded state"
    return 0
  elif [ "$code" != 0 ]; then
    fail "cannot reach the git remote to read the state branch '$branch' (git ls-remote exit $code)"
  fi
  git fetch --quiet --no-tags "$remote" "+refs/heads/$branch:refs/clickup-members/state" 2>/dev/null ||
    fail "cannot fetch the state branch '$branch'"
  for state in "${states[@]}"; do
    if git cat-file -e "refs/clickup-members/state:$state" 2>/dev/null; then
      mkdir -p "$(dirname "$state")"
      git cat-file blob "refs/clickup-members/state:$state" >"$state"
      say "took $state from the state branch '$branch'"
    else
      say "the state branch '$branch' holds no $state yet"
    fi
  done
}

# Records FILEs (the state file by default) on the state branch: a commit on top of the branch
# as it is now, whatever was pushed since this job started; a push that loses a race is tried
# again. The work tree, the index and the checked-out branch are left as they are.
cmd_push_state() {
  local files=("$@") attempts=${CLICKUP_MEMBERS_PUSH_ATTEMPTS:-5}
  [ ${#files[@]} -gt 0 ] || mapfile -t files < <(state_paths)
  to_top
  local present=()
  for f in "${files[@]}"; do
    [ -f "$f" ] && present+=("$f")
  done
  [ ${#present[@]} -gt 0 ] || {
    say "no state to record (${files[*]} not found)"
    return 0
  }
  local index=$tmp/index attempt=1 parent tree commit started_from
  started_from=$(git rev-parse --quiet --verify refs/clickup-members/state 2>/dev/null || true)
  export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-clickup-members} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-clickup-members@users.noreply.invalid}
  export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-$GIT_AUTHOR_NAME} GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-$GIT_AUTHOR_EMAIL}
  local source=${GITHUB_SHA:-${CI_COMMIT_SHA:-$(git rev-parse --quiet --verify HEAD || echo unknown)}}
  while :; do
    parent=
    if git fetch --quiet --no-tags "$remote" "+refs/heads/$branch:refs/clickup-members/state" 2>/dev/null; then
      parent=$(git rev-parse refs/clickup-members/state)
    fi
    rm -f "$index"
    if [ -n "$parent" ]; then
      GIT_INDEX_FILE=$index git read-tree "$parent"
    else
      GIT_INDEX_FILE=$index git read-tree --empty
    fi
    for f in "${present[@]}"; do
      GIT_INDEX_FILE=$index git update-index --add --cacheinfo "100644,$(git hash-object -w "$f"),$f"
    done
    tree=$(GIT_INDEX_FILE=$index git write-tree)
    if [ -n "$parent" ] && [ "$tree" = "$(git rev-parse "$parent^{tree}")" ]; then
      say "the state branch '$branch' already holds this state"
      return 0
    fi
    if [ -n "$started_from" ] && [ -n "$parent" ] && [ "$parent" != "$started_from" ]; then
      say "warning: the state branch '$branch' moved while this job ran (another apply recorded its state); this state is recorded on top, and the next plan reads the Workspace again"
    fi
    commit=$(git commit-tree "$tree" ${parent:+-p "$parent"} -m "clickup-members: state after apply of ${source:0:12}")
    if git push --quiet "$remote" "$commit:refs/heads/$branch" 2>/dev/null; then
      git update-ref refs/clickup-members/state "$commit"
      say "recorded ${present[*]} on the state branch '$branch' ($(git rev-parse --short "$commit"))"
      return 0
    fi
    if [ "$attempt" -ge "$attempts" ]; then
      fail "could not push the state to the branch '$branch' after $attempts attempts: check that the job may push to it (GitHub: permissions contents: write; GitLab: CLICKUP_MEMBERS_PUSH_TOKEN) and that no rule protects it. What was applied is in ${present[*]} in this job's work tree"
    fi
    say "the push of the state lost a race or failed (attempt $attempt of $attempts); trying again on top of the branch as it is now"
    sleep $((attempt + RANDOM % 3))
    attempt=$((attempt + 1))
  done
}

cmd_init_state() {
  to_top
  local code=0
  git ls-remote --exit-code --heads "$remote" "$branch" >/dev/null 2>&1 || code=$?
  if [ "$code" = 0 ]; then
    say "the state branch '$branch' exists already"
    return 0
  elif [ "$code" != 2 ]; then
    fail "cannot reach the git remote (git ls-remote exit $code)"
  fi
  local readme tree commit
  readme=$(printf '%s\n' \
    "# clickup-members state" "" \
    "What clickup-members applied to the ClickUp Workspace, written by CI after every apply." \
    "Kept apart from the protected default branch; do not edit by hand." |
    git hash-object -w --stdin)
  tree=$(printf '100644 blob %s\tREADME.md\n' "$readme" | git mktree)
  commit=$(GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-clickup-members} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-clickup-members@users.noreply.invalid} \
    GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-clickup-members} GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-clickup-members@users.noreply.invalid} \
    git commit-tree "$tree" -m "clickup-members: the state branch")
  git push --quiet "$remote" "$commit:refs/heads/$branch" || fail "cannot create the state branch '$branch' on the remote"
  say "created the state branch '$branch'"
}

cmd_plan() {
  cmd_fetch_state optional
  local args=(plan -f "$file" --format markdown "$@") code=0
  allow_replace && args+=(--allow-replace)
  if has_token; then
    args+=(--out plan.json)
  else
    say "no ClickUp token (a pull request from a fork, or a pipeline without the token): planning against the Workspace recorded by the last apply"
    args+=(--refresh=false)
  fi
  clickup-members "${args[@]}" >plan.md || code=$?
  cat plan.md
  return "$code"
}

cmd_apply() {
  local args=("$@")
  case " ${args[*]-} " in
    *" --snapshot "*) ;;
    *) has_token || fail "apply needs the ClickUp token: set the secret CLICKUP_TOKEN (GitHub) or the protected variable CLICKUP_TOKEN (GitLab) for this job" ;;
  esac
  cmd_fetch_state required
  local states audit code=0 logs
  mapfile -t states < <(state_paths)
  # The audit logs go beside the state (a folder of Workspace files: in it).
  logs=$(dirname "${states[0]}")
  [ -d "$file" ] && logs=$file
  audit="$logs/audit/$(date -u +%Y%m%dT%H%M%SZ)-${GITHUB_RUN_ID:-${CI_PIPELINE_ID:-local}}.jsonl"
  mkdir -p "$(dirname "$audit")"
  allow_replace && args+=(--allow-replace)
  clickup-members apply --auto-approve -f "$file" --audit-log "$audit" "${args[@]}" || code=$?
  # Also after a failed or partial apply: what was applied is recorded either way.
  cmd_push_state "${states[@]}" "$audit"
  return "$code"
}

# JSON for an API call, from a file's text and more string fields.
json_body() {
  local key=$1 path=$2
  shift 2
  jq -n --rawfile text "$path" --arg key "$key" '{($key): $text}' |
    jq "$@"
}

api() {
  local method=$1 url=$2 data=${3:-}
  local auth
  if [ -n "${GITHUB_ACTIONS:-}" ]; then
    auth="Authorization: Bearer ${GITHUB_TOKEN:?GITHUB_TOKEN is needed to write to the pull request or the issue}"
  else
    auth="PRIVATE-TOKEN: ${GITLAB_API_TOKEN:?GITLAB_API_TOKEN is needed to write to the merge request or the issue}"
  fi
  if [ -n "$data" ]; then
    curl --fail --silent --show-error --request "$method" --header "$auth" \
      --header 'Content-Type: application/json' --data @"$data" "$url"
  else
    curl --fail --silent --show-error --request "$method" --header "$auth" "$url"
  fi
}

# The `id_field` of the first item, in the pages of the JSON list at `url`, whose `field` starts
# with the marker: the comment, note or issue written before.
find_marked() {
  local url=$1 field=$2 id_field=$3 page=1 sep='?' items found
  case "$url" in *\?*) sep='&' ;; esac
  while [ "$page" -le 50 ]; do
    items=$(api GET "$url${sep}per_page=100&page=$page")
    found=$(printf '%s' "$items" | jq -r --arg m "$marker" --arg f "$field" --arg i "$id_field" \
      '[.[] | select((.[$f] // "") | startswith($m))][0][$i] // empty')
    if [ -n "$found" ]; then
      printf '%s\n' "$found"
      return 0
    fi
    [ "$(printf '%s' "$items" | jq length)" -lt 100 ] && return 0
    page=$((page + 1))
  done
}

cmd_comment() {
  local path=${1:-plan.md}
  [ -s "$path" ] || {
    say "no $path to post (the plan did not run)"
    return 0
  }
  { printf '%s\n' "$marker"; cat "$path"; } >"$tmp/comment.md"
  json_body body "$tmp/comment.md" . >"$tmp/comment.json"
  local id
  if [ -n "${GITHUB_ACTIONS:-}" ]; then
    local api_url=${GITHUB_API_URL:-https://api.github.com} number=${PR_NUMBER:?PR_NUMBER is the pull request number}
    id=$(find_marked "$api_url/repos/$GITHUB_REPOSITORY/issues/$number/comments" body id)
    if [ -n "$id" ]; then
      api PATCH "$api_url/repos/$GITHUB_REPOSITORY/issues/comments/$id" "$tmp/comment.json" >/dev/null
      say "updated the plan comment of pull request #$number"
    else
      api POST "$api_url/repos/$GITHUB_REPOSITORY/issues/$number/comments" "$tmp/comment.json" >/dev/null
      say "posted the plan on pull request #$number"
    fi
  elif [ -n "${GITLAB_CI:-}" ]; then
    if [ -z "${GITLAB_API_TOKEN:-}" ]; then
      say "GITLAB_API_TOKEN is not set: the plan is in the job log and its artifacts, not on the merge request"
      return 0
    fi
    local notes="$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes"
    id=$(find_marked "$notes?sort=asc" body id)
    if [ -n "$id" ]; then
      api PUT "$notes/$id" "$tmp/comment.json" >/dev/null
      say "updated the plan note of merge request !$CI_MERGE_REQUEST_IID"
    else
      api POST "$notes" "$tmp/comment.json" >/dev/null
      say "posted the plan on merge request !$CI_MERGE_REQUEST_IID"
    fi
  else
    fail "comment runs in GitHub Actions (GITHUB_ACTIONS) or GitLab CI (GITLAB_CI)"
  fi
}

# The nightly drift check: an open issue (labelled clickup-drift) holds the plan that would bring
# the Workspace back to the file while it differs, and is closed once they match again.
cmd_drift() {
  cmd_fetch_state optional
  local code=0 args=(plan -f "$file" --detailed-exitcode --format markdown "$@")
  allow_replace && args+=(--allow-replace)
  clickup-members "${args[@]}" >drift.md || code=$?
  cat drift.md
  case "$code" in
    0) drift_issue close ;;
    2) drift_issue open ;;
    *)
      # A plan that apply would refuse (exit 1, the plan still printed) is drift all the same:
      # the issue holds it, with why apply refuses it at its top.
      if grep -q '^### clickup-members plan for ' drift.md; then
        drift_issue open
        fail "the Workspace drifted from $file, and apply would refuse the plan that brings it back (see its top)"
      fi
      fail "the drift check could not plan (exit $code): see above"
      ;;
  esac
}

# The access review of the live Workspace against the member file, as CSV (for the auditor's
# spreadsheet, kept as the job's artifact) and markdown (its summary goes to the job's page).
cmd_report() {
  cmd_fetch_state optional
  clickup-members report -f "$file" --format csv "$@" >access-review.csv ||
    fail "the access review could not be made: see above"
  clickup-members report -f "$file" --format markdown "$@" >access-review.md ||
    fail "the access review could not be made: see above"
  # The heading and the summary; the whole table is in the artifacts.
  sed -n '1,3p' access-review.md
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    sed -n '1,3p' access-review.md >>"$GITHUB_STEP_SUMMARY"
  fi
  say "wrote access-review.csv ($(($(wc -l <access-review.csv) - 1)) rows) and access-review.md"
}

drift_issue() {
  local want=$1 title="ClickUp Workspace drifted from $file" id
  if [ -z "${GITHUB_TOKEN:-}${GITLAB_API_TOKEN:-}" ]; then
    [ "$want" = open ] && fail "the Workspace drifted from $file (the plan above); set GITHUB_TOKEN or GITLAB_API_TOKEN to keep an issue open about it"
    return 0
  fi
  { printf '%s\n' "$marker"; cat drift.md; } >"$tmp/drift.md"
  local body=$tmp/drift.json issues text_field close_body update
  if [ -n "${GITHUB_ACTIONS:-}" ]; then
    issues=${GITHUB_API_URL:-https://api.github.com}/repos/$GITHUB_REPOSITORY/issues
    id=$(find_marked "$issues?state=open&labels=$drift_label" body number)
    text_field=body update=PATCH
    close_body='{"state": "closed", "state_reason": "completed"}'
  else
    issues=$CI_API_V4_URL/projects/$CI_PROJECT_ID/issues
    id=$(find_marked "$issues?state=opened&labels=$drift_label" description iid)
    text_field=description update=PUT
    close_body='{"state_event": "close"}'
  fi
  if [ "$want" = close ]; then
    [ -n "$id" ] || return 0
    printf '%s\n' "$close_body" >"$body"
    api "$update" "$issues/$id" "$body" >/dev/null
    say "the Workspace matches $file again: closed the drift issue $id"
  elif [ -n "$id" ]; then
    json_body "$text_field" "$tmp/drift.md" . >"$body"
    api "$update" "$issues/$id" "$body" >/dev/null
    say "updated the drift issue $id"
  else
    # shellcheck disable=SC2016 # a jq program, not shell
    json_body "$text_field" "$tmp/drift.md" --arg t "$title" --arg l "$drift_label" \
      'if has("body") then . + {title: $t, labels: [$l]} else . + {title: $t, labels: $l} end' >"$body"
    api POST "$issues" "$body" >/dev/null
    say "opened a drift issue"
  fi
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  install) cmd_install ;;
  check) cmd_check ;;
  plan) cmd_plan "$@" ;;
  comment) cmd_comment "$@" ;;
  apply) cmd_apply "$@" ;;
  drift) cmd_drift "$@" ;;
  report) cmd_report "$@" ;;
  fetch-state) cmd_fetch_state "${1:-optional}" ;;
  push-state) cmd_push_state "$@" ;;
  init-state) cmd_init_state ;;
  *)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 64
    ;;
esac
