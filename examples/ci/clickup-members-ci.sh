#!/usr/bin/env bash
# clickup-members in CI: the one script both the GitHub and the GitLab recipes run.
# Copy it to ci/clickup-members-ci.sh in the repository that holds the member file.
#
#   clickup-members-ci.sh install       install the pinned release, its checksum verified
#   clickup-members-ci.sh check         validate the member file and check its formatting
#   clickup-members-ci.sh plan [ARG…]   plan for a pull/merge request into plan.md, save it as plan.json
#                                       (a GitHub pull request that changes nothing under the member
#                                       file's folder or this script: nothing to plan, at once)
#   clickup-members-ci.sh comment FILE  post FILE as the request's plan comment, or edit the one there
#   clickup-members-ci.sh apply [ARG…]  on the default branch: apply the plan reviewed on the merged
#                                       pull/merge request (without one: only a merge with nothing
#                                       to change), then push the state
#   clickup-members-ci.sh reviewed-plan [FILE]  save that reviewed plan in FILE (reviewed-plan.json);
#                                       outside CI too, with CLICKUP_MEMBERS_PLATFORM (below)
#   clickup-members-ci.sh drift [ARG…]  nightly: open, update or close the drift issue
#   clickup-members-ci.sh report [ARG…] the access review: access-review.csv and access-review.md,
#                                       also recorded on the state branch (reviews/)
#   clickup-members-ci.sh sync [ARG…]   scheduled: sync --write from the identity provider; a change
#                                       is pushed to one branch (clickup-members/sync) and opens one
#                                       pull/merge request, or updates the one already open
#   clickup-members-ci.sh fetch-state   put the recorded state into the work tree
#   clickup-members-ci.sh push-state [FILE…]  record the state (and FILEs) on the state branch
#   clickup-members-ci.sh init-state    create the state branch, once, before the first apply
#
# The state file lives on its own branch (CLICKUP_MEMBERS_STATE_BRANCH), not on the protected
# default branch: it is fetched before every plan and apply and pushed after every apply, a
# partial one too, on top of whatever the branch holds then (a push that loses a race is
# retried). Applies are serialised by the recipes (GitHub `concurrency`, GitLab `resource_group`).
#
# What was reviewed is what is applied: the pull/merge request's plan job saves its plan
# (plan.json, kept by the recipes as an artifact of the request's head commit), and apply on the
# default branch finds that plan through GitHub's or GitLab's API and runs
# `clickup-members apply --reviewed` with it: only the changes both that plan and a new one hold
# are made. Where no reviewed plan can be found, apply plans the Workspace first: a merge with
# nothing to change needs no review, and is applied (the state is recorded, nothing is written
# to ClickUp); one with changes stops, unless CLICKUP_MEMBERS_APPLY_UNREVIEWED is true.
#
# The scheduled sync writes the fragment the member file's `sync` section owns, as the identity
# provider has it now. A change becomes one commit on top of the branch the job runs on (the
# default branch), force-pushed to CLICKUP_MEMBERS_SYNC_BRANCH, and one pull/merge request from
# that branch: opened by the first run that finds a change, its commit, title and summary
# replaced by the next ones. A run that finds nothing to change opens nothing, and closes a sync
# request still open (the identity provider no longer holds what it proposes); a sync that fails
# or is refused writes nothing, leaves the request as it was, and fails the job. The request is
# then planned and reviewed like any other.
#
# A pull/merge request whose plan apply refuses only because it replaces people (member <->
# guest) passes its plan job all the same, saying so, and its plan is saved: after the merge,
# the apply run by hand with CLICKUP_MEMBERS_ALLOW_REPLACE=true applies it. A plan a guard
# refuses, or one that could not be made, fails the plan job.
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
#   CLICKUP_MEMBERS_APPLY_UNREVIEWED  true: where no reviewed plan is found, apply plans the
#                                  Workspace again and applies that plan under the guards,
#                                  unreviewed (and says so loudly)
#   CLICKUP_MEMBERS_MERGE_COMMIT   the commit whose pull/merge request's plan apply takes
#                                  (default GITHUB_SHA or CI_COMMIT_SHA: the commit being applied;
#                                  outside CI, the commit checked out)
#   CLICKUP_MEMBERS_REVIEWED_PLAN  a reviewed plan already at hand (another CI system): apply
#                                  takes this file instead of asking GitHub or GitLab
#   CLICKUP_MEMBERS_PLATFORM       github or gitlab: whose API the reviewed plan is looked up in
#                                  (default: the CI system the job runs in). Outside CI, set it
#                                  with what that platform's jobs are given: GitHub
#                                  GITHUB_REPOSITORY (owner/name), GITHUB_TOKEN (e.g. `gh auth
#                                  token`), GITHUB_API_URL (GitHub Enterprise Server); GitLab
#                                  CI_API_V4_URL (https://HOST/api/v4), CI_PROJECT_ID,
#                                  GITLAB_API_TOKEN
#   CLICKUP_MEMBERS_PLAN_JOB       GitLab: the job that saves plan.json (default plan)
#   CLICKUP_TOKEN, CLICKUP_TOKEN_FILE  the ClickUp token apply writes with (an admin's)
#   CLICKUP_READ_TOKEN             the token plan, drift and report read the Workspace with (a
#                                  ClickUp user with the least role that can read it), passed to
#                                  clickup-members as CLICKUP_TOKEN. Without any token, plan and
#                                  drift plan against the Workspace recorded by the last apply,
#                                  and report refuses
#   GITHUB_TOKEN (GitHub) or GITLAB_API_TOKEN (GitLab): for comments, the drift issue and the
#                                  reviewed plan's lookup
#   CLICKUP_MEMBERS_SYNC_TOKEN     sync: the token that opens and updates the sync's request
#                                  (GitHub: a GitHub App's token or a fine-grained personal access
#                                  token with Contents and Pull requests read and write, also given
#                                  to actions/checkout so that it pushes the branch; GitLab: a
#                                  project access token with api and the Developer role, also in
#                                  CLICKUP_MEMBERS_REMOTE). On GitHub, without it, GITHUB_TOKEN
#                                  opens the pull request, and GitHub starts no workflow for it
#   CLICKUP_MEMBERS_SYNC_BRANCH    sync: the branch of its request (default clickup-members/sync)
#   CLICKUP_MEMBERS_SYNC_BASE      sync: the branch the request merges into (default the branch
#                                  the job runs on: GITHUB_REF_NAME, CI_COMMIT_BRANCH)
#   OKTA_PRIVATE_KEY, GOOGLE_APPLICATION_CREDENTIALS_JSON  sync: the text of a key file (a CI
#                                  secret holds text, not a file): written, readable by the job's
#                                  user only, to a temporary file the script removes when it ends,
#                                  for OKTA_PRIVATE_KEY_FILE and GOOGLE_APPLICATION_CREDENTIALS.
#                                  The identity providers' other variables are read by
#                                  clickup-members itself (README: sync)
set -euo pipefail

file=${CLICKUP_MEMBERS_FILE:-clickup/members.yaml}
branch=${CLICKUP_MEMBERS_STATE_BRANCH:-clickup-members-state}
remote=${CLICKUP_MEMBERS_REMOTE:-origin}
repository=${CLICKUP_MEMBERS_REPOSITORY:-https://github.com/clickup-members/clickup-members}
bin_dir=${CLICKUP_MEMBERS_BIN_DIR:-$HOME/.local/bin}
marker='<!-- clickup-members plan -->'
drift_label=clickup-drift
# The GitHub recipes keep a pull request's saved plan as the artifact of this name and its head
# commit: clickup-members-plan-<sha>.
plan_artifact=clickup-members-plan
export PATH="$bin_dir:$PATH"
# The job's own temporary folder where the CI system gives one (GitHub's RUNNER_TEMP).
tmp=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/clickup-members.XXXXXX")
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

# Whether ARGs read a snapshot file instead of ClickUp (tests, rehearsals): no token is needed.
reads_snapshot() {
  case " $* " in
    *" --snapshot "* | *" --snapshot="*) return 0 ;;
  esac
  return 1
}

# The commands that only read (plan, drift, report) read ClickUp with the read token when
# there is one: the admin's token is for apply alone.
use_read_token() {
  if [ -n "${CLICKUP_READ_TOKEN:-}" ]; then
    export CLICKUP_TOKEN=$CLICKUP_READ_TOKEN
    unset CLICKUP_TOKEN_FILE
  fi
}

# A warning on the job's page (GitHub annotation and summary) and in its log.
warn() {
  say "warning: $*"
  if [ -n "${GITHUB_ACTIONS:-}" ]; then
    local text=$*
    text=${text//%/%25}
    printf '::warning title=clickup-members::%s\n' "$text"
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
      printf '> :warning: **%s**\n\n' "$*" >>"$GITHUB_STEP_SUMMARY"
    fi
  fi
}

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
# again. The work tree, the index and the checked-out branch are left as they are. The commit's
# message is $record_message when set (what is recorded if not a state).
cmd_push_state() {
  local files=("$@") attempts=${CLICKUP_MEMBERS_PUSH_ATTEMPTS:-5} message=${record_message:-}
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
    if [ -z "$message" ] && [ -n "$started_from" ] && [ -n "$parent" ] && [ "$parent" != "$started_from" ]; then
      say "warning: the state branch '$branch' moved while this job ran (another apply recorded its state); this state is recorded on top, and the next plan reads the Workspace again"
    fi
    commit=$(git commit-tree "$tree" ${parent:+-p "$parent"} -m "${message:-clickup-members: state after apply of ${source:0:12}}")
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

# Where the runs' records go, beside the state (a folder of Workspace files: in it): the audit
# logs of applies (audit/) and the access reviews (reviews/).
records_dir() {
  if [ -d "$file" ]; then
    printf '%s\n' "${file%/}"
  else
    dirname "$(state_path)"
  fi
}

state_branch_exists() {
  local code=0
  git ls-remote --exit-code --heads "$remote" "$branch" >/dev/null 2>&1 || code=$?
  case "$code" in
    0) return 0 ;;
    2) return 1 ;;
    *) fail "cannot reach the git remote to read the state branch '$branch' (git ls-remote exit $code)" ;;
  esac
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
    "What clickup-members applied to the ClickUp Workspace, written by CI after every apply," \
    "with the audit log of each apply (audit/) and the nightly access reviews (reviews/)." \
    "Kept apart from the protected default branch; do not edit by hand." |
    git hash-object -w --stdin)
  tree=$(printf '100644 blob %s\tREADME.md\n' "$readme" | git mktree)
  commit=$(GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-clickup-members} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-clickup-members@users.noreply.invalid} \
    GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-clickup-members} GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-clickup-members@users.noreply.invalid} \
    git commit-tree "$tree" -m "clickup-members: the state branch")
  git push --quiet "$remote" "$commit:refs/heads/$branch" || fail "cannot create the state branch '$branch' on the remote"
  say "created the state branch '$branch'"
}

# The plan of a pull/merge request: plan.md for its comment, and plan.json, the plan the merge
# applies. Without a token it plans against the Workspace the last apply recorded; that plan is
# saved too, and apply on merge makes only what it shows. A plan apply refuses only for its
# replaces is saved as well (the plan tool saves nothing for any other refusal), and the job
# passes, saying that apply on merge refuses it until run with allow replace: the pull/merge
# request can be merged, then applied by hand. A guard's refusal, or a plan that could not be
# made, fails the job.
cmd_plan() {
  local watched
  watched=$(watched_paths)
  if nothing_to_plan "$watched"; then
    rm -f plan.md plan.json
    say "this pull request changes nothing under ${watched//$'\n'/ or }: nothing to plan, and nothing for its merge to apply"
    return 0
  fi
  use_read_token
  cmd_fetch_state optional
  local args=(plan -f "$file" --format markdown --out plan.json "$@") code=0
  allow_replace && args+=(--allow-replace)
  if ! has_token && ! reads_snapshot "$@"; then
    say "no ClickUp read token (CLICKUP_READ_TOKEN is not set, or a pull request from a fork): planning against the Workspace recorded by the last apply"
    args+=(--refresh=false)
  fi
  rm -f plan.json
  clickup-members "${args[@]}" >plan.md || code=$?
  cat plan.md
  if [ ! -f plan.json ]; then
    say "no plan saved (see above): the merge of this request finds no reviewed plan"
    return "$code"
  fi
  say "saved the plan in plan.json: the merge applies what it holds"
  if [ "$code" = 1 ] && holds_replaces plan.json; then
    warn "the plan replaces people (member <-> guest), which apply on merge refuses: after the merge, run the apply by hand with allow replace to make it (README: Replacing people). The plan is saved, so this job passes"
    return 0
  fi
  return "$code"
}

# Whether a saved plan (one Workspace's, or a folder's) replaces anyone.
holds_replaces() {
  jq -e '[.. | objects | select(.action? == "replace")] | length > 0' "$1" >/dev/null 2>&1
}

# What a pull/merge request must change to be planned: the member file's folder (the fragments
# it includes are in it) and this script, one a line, from the top of the work tree.
watched_paths() {
  local self
  if [ -d "$file" ]; then
    printf '%s/\n' "${file%/}"
  else
    printf '%s/\n' "$(dirname "$file")"
  fi
  self=$(git ls-files --full-name -- "$0" 2>/dev/null || true)
  [ -z "$self" ] || printf '%s\n' "$self"
}

# Whether this job plans a GitHub pull request that changes none of WATCHED (one a line).
# GitHub checks a pull request out as the merge of its head into the base branch; with
# `fetch-depth: 2` (the plan workflow's checkout) that merge's parents are there too, and its
# first is the base branch as the pull request would be merged into it. Anything else (no
# such merge, a shallower checkout, another CI system) is planned.
nothing_to_plan() {
  local watched=() top
  [ "${GITHUB_EVENT_NAME:-}" = pull_request ] || return 1
  mapfile -t watched <<<"$1"
  top=$(git rev-parse --show-toplevel 2>/dev/null) || return 1
  git -C "$top" rev-parse --quiet --verify 'HEAD^2^{commit}' >/dev/null 2>&1 || return 1
  git -C "$top" rev-parse --quiet --verify 'HEAD^1^{commit}' >/dev/null 2>&1 || return 1
  git -C "$top" diff --quiet 'HEAD^1' HEAD -- "${watched[@]}" 2>/dev/null
}

cmd_apply() {
  local args=("$@")
  reads_snapshot "${args[@]}" || has_token ||
    fail "apply needs the ClickUp token: set the secret CLICKUP_TOKEN (GitHub: in the environment clickup) or the protected variable CLICKUP_TOKEN (GitLab) for this job"
  cmd_fetch_state required
  local states audit code=0 reviewed=$tmp/reviewed-plan.json
  mapfile -t states < <(state_paths)
  find_reviewed_plan "$reviewed"
  if [ "$reviewed_found" = true ]; then
    say "applying $reviewed_from: only the changes it holds are made"
    args+=(--reviewed "$reviewed")
  else
    # A merge with nothing to change needs no review: the Workspace is planned first, and a
    # plan without changes is the plan applied (it records the state and writes nothing to
    # ClickUp; a change made in ClickUp meanwhile is not in it, so it is not made either).
    say "no reviewed plan: $no_review. Planning the Workspace: a merge with nothing to change needs no review"
    local unchanged=$tmp/unchanged-plan.json planned=0
    local unchanged_args=(plan --quiet --detailed-exitcode -f "$file" --out "$unchanged")
    plan_options "${args[@]}"
    allow_replace && plan_args+=(--allow-replace)
    clickup-members "${unchanged_args[@]}" "${plan_args[@]}" || planned=$?
    case "$planned" in
      0)
        say "the Workspace matches $file: applying the plan without changes, which records the state and writes nothing to ClickUp"
        args+=(--reviewed "$unchanged")
        ;;
      2)
        if [ "${CLICKUP_MEMBERS_APPLY_UNREVIEWED:-false}" = true ]; then
          warn "APPLYING AN UNREVIEWED PLAN: $no_review. CLICKUP_MEMBERS_APPLY_UNREVIEWED=true lets apply plan the Workspace again and apply that plan, under the guards, without anyone having reviewed it"
        else
          fail "no reviewed plan to apply: $no_review. The Workspace differs from $file (the plan above). Nothing was applied. A merge applies the plan its pull/merge request showed: make the change in a pull/merge request and let its plan job save its plan (if the plan expired, run that job again, then this apply), or set the repository's CI variable CLICKUP_MEMBERS_APPLY_UNREVIEWED=true to plan and apply without a review"
        fi
        ;;
      *) fail "no reviewed plan to apply: $no_review, and the Workspace could not be planned, or apply would refuse its plan (exit $planned, see above). Nothing was applied" ;;
    esac
  fi
  audit="$(records_dir)/audit/$(date -u +%Y%m%dT%H%M%SZ)-${GITHUB_RUN_ID:-${CI_PIPELINE_ID:-local}}.jsonl"
  mkdir -p "$(dirname "$audit")"
  allow_replace && args+=(--allow-replace)
  clickup-members apply --auto-approve -f "$file" --audit-log "$audit" "${args[@]}" || code=$?
  if [ "$code" != 0 ] && ! allow_replace && [ "$reviewed_found" = true ] && holds_replaces "$reviewed"; then
    say "the reviewed plan replaces people, which apply makes only with allow replace: once it is reviewed, run this apply by hand with it (GitHub: Run workflow, \"allow replace\" ticked; GitLab: a pipeline run by hand with CLICKUP_MEMBERS_ALLOW_REPLACE=true; README: Replacing people)"
  fi
  # Also after a failed or partial apply: what was applied is recorded either way.
  cmd_push_state "${states[@]}" "$audit"
  return "$code"
}

# The options of apply's ARGs that plan takes too (the global ones: the Workspace, the state,
# the API), in plan_args.
plan_args=()
plan_options() {
  plan_args=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --state | --api-url | --snapshot | --timeout | --color)
        plan_args+=("$1")
        if [ $# -gt 1 ]; then
          plan_args+=("$2")
          shift
        fi
        ;;
      --state=* | --api-url=* | --snapshot=* | --timeout=* | --color=* | -v | -vv | -vvv | --verbose)
        plan_args+=("$1")
        ;;
    esac
    shift
  done
}

# The reviewed plan: the plan the pull/merge request merged as this commit saved (its plan
# job's plan.json), found through the platform's API with the job's own token. Sets
# reviewed_found=true and reviewed_from (what it is) when the plan is in OUT; otherwise
# no_review says why there is none. An API that answers with an error fails the job: a lookup
# that cannot be made is not the same as a plan that does not exist.
reviewed_found=false reviewed_from='' no_review=''
find_reviewed_plan() {
  local out=$1 sha=${CLICKUP_MEMBERS_MERGE_COMMIT:-${GITHUB_SHA:-${CI_COMMIT_SHA:-}}} where
  if [ -n "${CLICKUP_MEMBERS_REVIEWED_PLAN:-}" ]; then
    [ -f "$CLICKUP_MEMBERS_REVIEWED_PLAN" ] ||
      fail "CLICKUP_MEMBERS_REVIEWED_PLAN names $CLICKUP_MEMBERS_REVIEWED_PLAN, which is not a file"
    cp "$CLICKUP_MEMBERS_REVIEWED_PLAN" "$out"
    reviewed_found=true reviewed_from="the reviewed plan $CLICKUP_MEMBERS_REVIEWED_PLAN"
    return 0
  fi
  where=$(platform)
  if [ -z "$where" ]; then
    no_review="this job runs neither in GitHub Actions nor in GitLab CI, so there is no pull/merge request to take the reviewed plan from (CLICKUP_MEMBERS_PLATFORM=github or gitlab looks it up from elsewhere; CLICKUP_MEMBERS_REVIEWED_PLAN can name a plan saved by plan --out)"
    return 0
  fi
  # Outside CI: the commit checked out.
  [ -n "$sha" ] || sha=$(git rev-parse --quiet --verify 'HEAD^{commit}' 2>/dev/null) ||
    fail "the commit to apply is unknown: GITHUB_SHA, CI_COMMIT_SHA and CLICKUP_MEMBERS_MERGE_COMMIT are not set, and no commit is checked out here"
  if [ "$where" = github ]; then
    github_reviewed_plan "$sha" "$out"
  else
    gitlab_reviewed_plan "$sha" "$out"
  fi
  if [ "$reviewed_found" = true ] && ! jq -e '.format_version' "$out" >/dev/null 2>&1; then
    fail "$reviewed_from is not a plan saved by clickup-members plan --out"
  fi
}

# GitHub: the pull request merged as SHA, then the artifact named after its head commit, then
# that artifact's zip (a redirect to GitHub's storage, followed without the token).
github_reviewed_plan() {
  local sha=$1 out=$2 repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is the owner/name of the repository}
  local base=${GITHUB_API_URL:-https://api.github.com}/repos/$repo status location pr number head name id
  platform_headers >/dev/null
  read -r status location <<<"$(platform_get "$base/commits/$sha/pulls?per_page=100" "$tmp/pulls.json")"
  case "$status" in
    200) ;;
    404 | 422)
      no_review="GitHub knows no commit $sha in $repo"
      return 0
      ;;
    *) platform_failed "$status" "GET /repos/$repo/commits/$sha/pulls" "$tmp/pulls.json" ;;
  esac
  pr=$(jq -r --arg sha "$sha" \
    '([.[] | select(.merged_at != null and .merge_commit_sha == $sha)][0] // empty) | "\(.number) \(.head.sha)"' \
    "$tmp/pulls.json") || fail "GitHub's list of the pull requests of $sha cannot be read"
  if [ -z "$pr" ]; then
    no_review="no merged pull request has $sha as its merge commit (a push straight to the default branch?)"
    return 0
  fi
  read -r number head <<<"$pr"
  name=$plan_artifact-$head
  read -r status location <<<"$(platform_get "$base/actions/artifacts?name=$name&per_page=100" "$tmp/artifacts.json")"
  [ "$status" = 200 ] || platform_failed "$status" "GET /repos/$repo/actions/artifacts?name=$name" "$tmp/artifacts.json"
  # The newest that has not expired, of a run on that very commit.
  id=$(jq -r --arg head "$head" \
    '[.artifacts[] | select((.expired | not) and (.workflow_run.head_sha // $head) == $head)] | sort_by(.created_at) | last | .id // empty' \
    "$tmp/artifacts.json") || fail "GitHub's list of the artifacts named $name cannot be read"
  if [ -z "$id" ]; then
    if jq -e '[.artifacts[] | select(.expired)] | length > 0' "$tmp/artifacts.json" >/dev/null; then
      no_review="the plan of pull request #$number (artifact $name) has expired"
    else
      no_review="pull request #$number has no saved plan (no artifact $name): its plan job did not run on its last commit, or could not plan (see its comment)"
    fi
    return 0
  fi
  read -r status location <<<"$(platform_get "$base/actions/artifacts/$id/zip" "$tmp/plan.zip")"
  case "$status" in
    200) ;;
    301 | 302 | 303 | 307 | 308) download_redirect "$location" "$tmp/plan.zip" ;;
    410)
      no_review="the plan of pull request #$number (artifact $name) has expired"
      return 0
      ;;
    *) platform_failed "$status" "GET /repos/$repo/actions/artifacts/$id/zip" "$tmp/plan.zip" ;;
  esac
  if ! unzip -p "$tmp/plan.zip" plan.json >"$out" 2>/dev/null; then
    no_review="the artifact $name of pull request #$number holds no plan.json"
    return 0
  fi
  reviewed_found=true
  reviewed_from="the plan reviewed on pull request #$number (artifact $name)"
}

# GitLab: the merge request merged as SHA (its merge, squash or, fast-forwarded, head commit),
# its last pipeline, that pipeline's plan job, and the plan.json that job kept.
gitlab_reviewed_plan() {
  local sha=$1 out=$2 job=${CLICKUP_MEMBERS_PLAN_JOB:-plan}
  local base=${CI_API_V4_URL:?CI_API_V4_URL is the API of GitLab}/projects/${CI_PROJECT_ID:?CI_PROJECT_ID is the project}
  local status location iid pipeline job_id
  platform_headers >/dev/null
  read -r status location <<<"$(platform_get "$base/repository/commits/$sha/merge_requests" "$tmp/mrs.json")"
  case "$status" in
    200) ;;
    404)
      no_review="GitLab knows no commit $sha in project $CI_PROJECT_ID"
      return 0
      ;;
    *) platform_failed "$status" "GET /projects/$CI_PROJECT_ID/repository/commits/$sha/merge_requests" "$tmp/mrs.json" ;;
  esac
  iid=$(jq -r --arg sha "$sha" \
    '[.[] | select(.state == "merged" and (.merge_commit_sha == $sha or .squash_commit_sha == $sha or .sha == $sha))][0].iid // empty' \
    "$tmp/mrs.json") || fail "GitLab's list of the merge requests of $sha cannot be read"
  if [ -z "$iid" ]; then
    no_review="no merged merge request has $sha as its merge commit (a push straight to the default branch?)"
    return 0
  fi
  read -r status location <<<"$(platform_get "$base/merge_requests/$iid/pipelines?per_page=1" "$tmp/pipelines.json")"
  [ "$status" = 200 ] || platform_failed "$status" "GET /projects/$CI_PROJECT_ID/merge_requests/$iid/pipelines" "$tmp/pipelines.json"
  pipeline=$(jq -r '.[0].id // empty' "$tmp/pipelines.json") ||
    fail "GitLab's list of the pipelines of merge request !$iid cannot be read"
  if [ -z "$pipeline" ]; then
    no_review="merge request !$iid has no pipeline, so no saved plan"
    return 0
  fi
  read -r status location <<<"$(platform_get "$base/pipelines/$pipeline/jobs?per_page=100" "$tmp/jobs.json")"
  [ "$status" = 200 ] || platform_failed "$status" "GET /projects/$CI_PROJECT_ID/pipelines/$pipeline/jobs" "$tmp/jobs.json"
  job_id=$(jq -r --arg job "$job" '[.[] | select(.name == $job)] | sort_by(.id) | last | .id // empty' "$tmp/jobs.json") ||
    fail "GitLab's list of the jobs of pipeline $pipeline cannot be read"
  if [ -z "$job_id" ]; then
    no_review="the last pipeline of merge request !$iid ($pipeline) has no job $job, so no saved plan"
    return 0
  fi
  read -r status location <<<"$(platform_get "$base/jobs/$job_id/artifacts/plan.json" "$out")"
  case "$status" in
    200) ;;
    301 | 302 | 303 | 307 | 308) download_redirect "$location" "$out" ;;
    404)
      no_review="the job $job ($job_id) of merge request !$iid's last pipeline kept no plan.json: it could not plan (see its note), or its artifacts expired"
      return 0
      ;;
    *) platform_failed "$status" "GET /projects/$CI_PROJECT_ID/jobs/$job_id/artifacts/plan.json" "$out" ;;
  esac
  reviewed_found=true
  reviewed_from="the plan reviewed on merge request !$iid (job $job_id of pipeline $pipeline)"
}

cmd_reviewed_plan() {
  local out=${1:-reviewed-plan.json}
  find_reviewed_plan "$tmp/reviewed-plan.json"
  [ "$reviewed_found" = true ] || fail "no reviewed plan: $no_review"
  cp "$tmp/reviewed-plan.json" "$out"
  say "saved $reviewed_from in $out"
}

# The platform whose API the job talks to: CLICKUP_MEMBERS_PLATFORM, else the CI system the
# job runs in (github, gitlab), else nothing.
platform() {
  case "${CLICKUP_MEMBERS_PLATFORM:-}" in
    github | gitlab) printf '%s\n' "$CLICKUP_MEMBERS_PLATFORM" ;;
    '')
      if [ -n "${GITHUB_ACTIONS:-}" ]; then
        printf 'github\n'
      elif [ -n "${GITLAB_CI:-}" ]; then
        printf 'gitlab\n'
      fi
      ;;
    *) fail "CLICKUP_MEMBERS_PLATFORM is github or gitlab, not \"$CLICKUP_MEMBERS_PLATFORM\"" ;;
  esac
}

# The headers that authenticate this job to its platform's API, in a file only this job reads,
# so that the token never shows in a list of processes.
platform_headers() {
  local headers=$tmp/platform-headers
  if [ ! -f "$headers" ]; then
    if [ "$(platform)" = github ]; then
      [ -n "${GITHUB_TOKEN:-}" ] ||
        fail "GITHUB_TOKEN is not set: this step needs the job's token (github.token; outside CI, e.g. \`gh auth token\`) for GitHub's API"
      (
        umask 077
        printf 'Authorization: Bearer %s\nAccept: application/vnd.github+json\nX-GitHub-Api-Version: 2022-11-28\n' \
          "$GITHUB_TOKEN" >"$headers"
      )
    else
      [ -n "${GITLAB_API_TOKEN:-}" ] ||
        fail "GITLAB_API_TOKEN is not set: this job needs a project access token for GitLab's API (README: the workflow)"
      (
        umask 077
        printf 'PRIVATE-TOKEN: %s\n' "$GITLAB_API_TOKEN" >"$headers"
      )
    fi
  fi
  printf '%s\n' "$headers"
}

# GET URL into FILE with the platform's token; prints the HTTP status ("000" when there was no
# answer) and, for a redirect, where it points. A redirect is never followed with the token.
platform_get() {
  local url=$1 out=$2 headers
  headers=$(platform_headers)
  curl --silent --show-error --retry 3 --max-time 120 --header @"$headers" --output "$out" \
    --write-out '%{http_code} %{redirect_url}' "$url" 2>"$tmp/curl.log" || true
}

platform_failed() {
  local status=$1 what=$2 body=$3 hint=''
  case "$status" in
    000) fail "$what: no answer ($(cat "$tmp/curl.log" 2>/dev/null))" ;;
    401 | 403) hint=": the job's token may not read this (GitHub: permissions actions: read, contents: read, pull-requests: read; GitLab: GITLAB_API_TOKEN with read_api and the Reporter role)" ;;
  esac
  fail "$what was answered $status$hint. $(head -c 300 "$body" 2>/dev/null)"
}

# A redirect's target (GitHub's artifact storage, GitLab's object storage or CDN): a link that
# carries its own short-lived signature, fetched without the platform's token, over HTTPS.
download_redirect() {
  local location=$1 out=$2
  case "$location" in
    https://*) ;;
    http://127.0.0.1[:/]* | http://localhost[:/]* | http://\[::1\][:/]*) ;;
    *) fail "the download was redirected to ${location%%\?*}, which is not HTTPS: not followed" ;;
  esac
  curl --fail --silent --show-error --retry 3 --max-time 300 --output "$out" "$location" ||
    fail "cannot download the reviewed plan from ${location%%\?*}"
}

# JSON for an API call, from a file's text and more string fields.
json_body() {
  local key=$1 path=$2
  shift 2
  jq -n --rawfile text "$path" --arg key "$key" '{($key): $text}' |
    jq "$@"
}

api() {
  local method=$1 url=$2 data=${3:-} headers
  headers=$(platform_headers)
  if [ -n "$data" ]; then
    curl --fail --silent --show-error --request "$method" --header @"$headers" \
      --header 'Content-Type: application/json' --data @"$data" "$url"
  else
    curl --fail --silent --show-error --request "$method" --header @"$headers" "$url"
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
    platform_headers >/dev/null
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
    platform_headers >/dev/null
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
# the Workspace back to the file while it differs, and is closed once they match again. Without
# a token it can only compare the file with the Workspace the last apply recorded, and says so.
cmd_drift() {
  use_read_token
  cmd_fetch_state optional
  local code=0 args=(plan -f "$file" --detailed-exitcode --format markdown "$@")
  allow_replace && args+=(--allow-replace)
  if ! has_token && ! reads_snapshot "$@"; then
    warn "no ClickUp read token (CLICKUP_READ_TOKEN is not set): the drift check compares $file with the Workspace as the last apply recorded it, and cannot see changes made in ClickUp since. Set CLICKUP_READ_TOKEN to check the live Workspace"
    args+=(--refresh=false)
  fi
  clickup-members "${args[@]}" >drift.md || code=$?
  cat drift.md
  case "$code" in
    0) drift_issue close ;;
    2) drift_issue open ;;
    *)
      # A plan that apply would refuse (exit 1, the plan still printed with its changes) is
      # drift all the same: the issue holds it, with why apply refuses it at its top. A run
      # that could not plan (the file is invalid, ClickUp could not be read) prints no changes
      # and leaves the issue as it is.
      if has_changes drift.md; then
        drift_issue open
        fail "the Workspace drifted from $file, and apply would refuse the plan that brings it back (see its top)"
      fi
      fail "the drift check could not plan (exit $code): see above; the drift issue is left as it was"
      ;;
  esac
}

# Whether a markdown plan holds a Workspace's changes: its summary line.
has_changes() { grep -q '^\*\*Plan: ' "$1"; }

# The access review of the live Workspace against the member file, as CSV (for the auditor's
# spreadsheet) and markdown (its summary goes to the job's page). Both are kept as the job's
# artifact and recorded on the state branch (reviews/YYYY-MM-DD.csv and .md beside the state),
# which keeps them past the platform's artifact retention.
cmd_report() {
  use_read_token
  reads_snapshot "$@" || has_token ||
    fail "the access review reads the live Workspace and needs a token: set CLICKUP_READ_TOKEN (GitHub: a repository secret; GitLab: a masked variable), the token of a ClickUp user who can see the Workspace's people (README: the workflow). Nothing was reviewed"
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
  local day reviews
  day=$(date -u +%Y-%m-%d)
  reviews="$(records_dir)/reviews"
  state_branch_exists ||
    fail "the access review is in access-review.csv but cannot be kept: the state branch '$branch' does not exist. Create it once with \`bash ci/clickup-members-ci.sh init-state\` (README: the workflow)"
  mkdir -p "$reviews"
  cp access-review.csv "$reviews/$day.csv"
  cp access-review.md "$reviews/$day.md"
  record_message="clickup-members: access review of $day" cmd_push_state "$reviews/$day.csv" "$reviews/$day.md"
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

# ---------------------------------------------------------------------------------------------
# The scheduled sync from the identity provider, and its one pull/merge request.

sync_branch=${CLICKUP_MEMBERS_SYNC_BRANCH:-clickup-members/sync}
sync_marker='<!-- clickup-members sync -->'

cmd_sync() {
  local where base code=0
  where=$(platform)
  [ -n "$where" ] ||
    fail "sync opens a pull/merge request: run it in GitHub Actions or GitLab CI, or name the platform with CLICKUP_MEMBERS_PLATFORM=github or gitlab (and what its jobs are given)"
  base=${CLICKUP_MEMBERS_SYNC_BASE:-${GITHUB_REF_NAME:-${CI_COMMIT_BRANCH:-}}}
  [ -n "$base" ] || base=$(git symbolic-ref --quiet --short HEAD 2>/dev/null) ||
    fail "the branch to open the sync's request into is unknown: set CLICKUP_MEMBERS_SYNC_BASE (the default branch)"
  [ "$base" != "$sync_branch" ] ||
    fail "the sync runs on its own branch '$sync_branch': run it on the default branch"
  sync_token "$where"
  # The token is checked before the identity provider is read.
  platform_headers >/dev/null
  sync_key_files

  clickup-members sync -f "$file" --write --detailed-exitcode --format json "$@" >"$tmp/sync.json" || code=$?
  case "$code" in
    0)
      say "the identity provider holds what $file already says: nothing to sync, no $(request_name) to open"
      sync_close_stale
      return 0
      ;;
    2) ;;
    *) fail "the sync could not be made, or was refused (exit $code, see above): nothing was committed, and no $(request_name) was opened or changed" ;;
  esac

  local fragments=() fragment
  while IFS= read -r fragment; do
    # From the top of the work tree, where git takes paths.
    fragments+=("$(git -C "$(dirname "$fragment")" rev-parse --show-prefix)$(basename "$fragment")")
  done < <(jq -r '(.workspaces // [.])[] | select(.changes_file) | .fragment' "$tmp/sync.json")
  [ ${#fragments[@]} -gt 0 ] || fail "the sync reported a change but named no fragment it wrote"
  sync_summary "$where" "$base"
  cat "$tmp/sync.md"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat "$tmp/sync.md" >>"$GITHUB_STEP_SUMMARY"
  fi
  to_top
  sync_push "${fragments[@]}"
  sync_request "$where" "$base"
}

request_name() {
  if [ "$(platform)" = gitlab ]; then printf 'merge request\n'; else printf 'pull request\n'; fi
}

# The token of the sync's request: CLICKUP_MEMBERS_SYNC_TOKEN, else the job's own. GitHub starts
# no workflow for what the job's GITHUB_TOKEN does (its pull requests and pushes), so without a
# token of its own the sync's pull request is never planned until someone closes and reopens it.
sync_token() {
  if [ -n "${CLICKUP_MEMBERS_SYNC_TOKEN:-}" ]; then
    if [ "$1" = github ]; then
      export GITHUB_TOKEN=$CLICKUP_MEMBERS_SYNC_TOKEN
    else
      export GITLAB_API_TOKEN=$CLICKUP_MEMBERS_SYNC_TOKEN
    fi
  elif [ "$1" = github ]; then
    warn "CLICKUP_MEMBERS_SYNC_TOKEN is not set: the sync's pull request is opened and updated with the job's GITHUB_TOKEN, and GitHub starts no workflow for it, so its plan does not run until someone closes and reopens it. Set CLICKUP_MEMBERS_SYNC_TOKEN to a GitHub App's or a fine-grained token (README: Syncing on a schedule)"
  fi
}

# Key files given as text (a CI secret holds text): each written, readable by this job's user
# only, into the script's temporary folder, removed when the script ends. Never printed.
sync_key_files() {
  if [ -n "${OKTA_PRIVATE_KEY:-}" ] && [ -z "${OKTA_PRIVATE_KEY_FILE:-}" ]; then
    (
      umask 077
      printf '%s\n' "$OKTA_PRIVATE_KEY" >"$tmp/okta-private-key.pem"
    )
    export OKTA_PRIVATE_KEY_FILE=$tmp/okta-private-key.pem
  fi
  if [ -n "${GOOGLE_APPLICATION_CREDENTIALS_JSON:-}" ] && [ -z "${GOOGLE_APPLICATION_CREDENTIALS:-}" ]; then
    (
      umask 077
      printf '%s\n' "$GOOGLE_APPLICATION_CREDENTIALS_JSON" >"$tmp/google-service-account.json"
    )
    export GOOGLE_APPLICATION_CREDENTIALS=$tmp/google-service-account.json
  fi
  unset OKTA_PRIVATE_KEY GOOGLE_APPLICATION_CREDENTIALS_JSON
}

# The title (sync_title), the markdown of the request and the job summary ($tmp/sync.md), and the
# commit message ($tmp/sync.txt), from the sync's JSON: who joins, leaves and changes, and why.
sync_title=''
sync_summary() {
  local where=$1 base=$2 kind run=''
  kind=$(request_name)
  if [ "$where" = github ] && [ -n "${GITHUB_RUN_ID:-}" ]; then
    run="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/$GITHUB_RUN_ID"
  elif [ -n "${CI_JOB_URL:-}" ]; then
    run=$CI_JOB_URL
  fi
  # shellcheck disable=SC2016 # jq programs, not shell
  local common='
    def code: "`" + (tostring | gsub("[`\r\n]"; "'"'"'")) + "`";
    def role: if .kind == "guest" then (if .role then "guest (custom role \(.role))" else "guest" end)
              else (.role // "member") end;
    def list(f): [(f // [])[] | code] | join(", ");
    def what: (role | code)
      + (if ((.groups // []) | length) > 0 then " in " + list(.groups) else "" end)
      + (if .expires then ", expires \(.expires)" else "" end);
    def differences: . as $c | [
      (if ($c.from | role) != ($c.to | role) then "\($c.from | role | code) → \($c.to | role | code)" else empty end),
      (if ($c.from.groups // []) != ($c.to.groups // []) then "groups [\($c.from | list(.groups))] → [\($c.to | list(.groups))]" else empty end),
      (if $c.from.expires != $c.to.expires then "expires \($c.from.expires // "never") → \($c.to.expires // "never")" else empty end),
      (if ($c.from.source // []) != ($c.to.source // []) then "source [\($c.from | list(.source))] → [\($c.to | list(.source))]" else empty end)
    ] | join("; ");
    def all: (.workspaces // [.]);
    def total(k): [all[] | (.[k] // []) | length] | add // 0;
    def tally: "\(total("added")) to add, \(total("removed")) to remove, \(total("changed")) to change";
    def cut(items; n; line): (items[:n][] | line),
      (if (items | length) > n then "- … and \((items | length) - n) more" else empty end);
  '
  sync_title=$(jq -r "$common"' "clickup-members sync: " + tally' "$tmp/sync.json")
  jq -r --arg marker "$sync_marker" --arg kind "$kind" --arg branch "$sync_branch" --arg base "$base" \
    --arg run "$run" "$common"'
    $marker,
    "### \("clickup-members sync: " + tally)",
    "",
    "`clickup-members sync` read the identity provider and wrote what it holds into the fragment `sync` owns. The plan of this \($kind) shows what ClickUp gets when it is merged.",
    (all[] | select(.changes_file) |
      "",
      "#### \(.file | code) → \(.fragment | code)",
      (if (.added | length) > 0 then "", "**Joins (\(.added | length))**", "",
        cut(.added; 100; "- \(.email | code): \(what), from \(list(.source))") else empty end),
      (if (.removed | length) > 0 then "", "**Leaves (\(.removed | length))**", "",
        cut(.removed; 100; "- \(.email | code): no rule holds them now" + (if ((.source // []) | length) > 0 then " (was from \(list(.source)))" else "" end)) else empty end),
      (if (.changed | length) > 0 then "", "**Changes (\(.changed | length))**", "",
        cut(.changed; 100; "- \(.email | code): \(differences), by \(.by | code)") else empty end),
      (if ((.kept_as_written // []) | length) > 0 then "", "**Kept as written (\(.kept_as_written | length))**: listed by hand, which wins over the sync", "",
        cut(.kept_as_written; 100; "- \(.email | code) at \("\(.file):\(.line)" | code)") else empty end),
      (if ((.warnings // []) | length) > 0 then "", (.warnings[] | "> warning: \(.)") else empty end),
      "",
      "| rule | people read | pages | left out |",
      "| --- | ---: | ---: | ---: |",
      (.rules[] | "| \("\(.from):\(.group)" | code) | \(.read) | \(.pages) | \(.dropped) |")
    ),
    "",
    "---",
    "Opened and kept up to date by the scheduled sync\(if $run != "" then " ([this run](\($run)))" else "" end): every run that finds a change replaces the branch \($branch | code) with one commit on top of \($base | code) and updates this \($kind), so a commit pushed to it by hand is lost. A run that finds nothing left to change closes it."
  ' "$tmp/sync.json" >"$tmp/sync.md"
  # GitHub's limit for a pull request's text is 65,536 characters.
  if [ "$(wc -c <"$tmp/sync.md")" -gt 60000 ]; then
    head -c 60000 "$tmp/sync.md" >"$tmp/sync-cut.md"
    printf '\n\n… cut: the whole change is in the commit and in the job log.\n' >>"$tmp/sync-cut.md"
    mv "$tmp/sync-cut.md" "$tmp/sync.md"
  fi
  jq -r --arg title "$sync_title" --arg run "$run" "$common"'
    $title, "",
    (all[] | select(.changes_file) |
      "Written by clickup-members sync into \(.fragment):",
      (.added[] | "  + \(.email): \(role), from \((.source // []) | join(", "))"),
      (.removed[] | "  - \(.email)"),
      (.changed[] | "  ~ \(.email): by \(.by)")),
    (if $run != "" then "", $run else empty end)
  ' "$tmp/sync.json" >"$tmp/sync.txt"
}

# One commit on top of HEAD with the fragments FILE… as the sync wrote them (nothing else of the
# work tree), force-pushed to the sync's branch, unless the branch holds that very change already.
sync_push() {
  local index=$tmp/sync-index head tree commit existing='' f
  head=$(git rev-parse --verify 'HEAD^{commit}')
  rm -f "$index"
  GIT_INDEX_FILE=$index git read-tree "$head"
  for f in "$@"; do
    GIT_INDEX_FILE=$index git update-index --add --cacheinfo "100644,$(git hash-object -w -- "$f"),$f"
  done
  tree=$(GIT_INDEX_FILE=$index git write-tree)
  if git fetch --quiet --no-tags "$remote" "+refs/heads/$sync_branch:refs/clickup-members/sync" 2>/dev/null; then
    existing=$(git rev-parse refs/clickup-members/sync)
    if [ "$(git rev-parse "$existing^{tree}")" = "$tree" ] &&
      [ "$(git rev-parse --quiet --verify "$existing^1" 2>/dev/null)" = "$head" ]; then
      say "the branch '$sync_branch' already holds this change on top of $(git rev-parse --short "$head")"
      return 0
    fi
  fi
  commit=$(GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-clickup-members} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-clickup-members@users.noreply.invalid} \
    GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-clickup-members} GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-clickup-members@users.noreply.invalid} \
    git commit-tree "$tree" -p "$head" -F "$tmp/sync.txt")
  # Replaces the branch only as this job last saw it (or creates it).
  git push --quiet --force-with-lease="refs/heads/$sync_branch:$existing" "$remote" "$commit:refs/heads/$sync_branch" ||
    fail "cannot push the branch '$sync_branch' (see above): the token that pushes needs to write to the repository (GitHub: CLICKUP_MEMBERS_SYNC_TOKEN with Contents read and write, given to actions/checkout, or permissions contents: write; GitLab: CLICKUP_MEMBERS_SYNC_TOKEN with api and the Developer role), and no rule may protect '$sync_branch'"
  say "pushed the sync to the branch '$sync_branch' ($(git rev-parse --short "$commit"), on top of $(git rev-parse --short "$head"))"
}

# METHOD URL with the platform's token and the JSON file DATA (or none: ""), the answer into OUT;
# prints the HTTP status ("000" when there was no answer). Only a GET is tried again.
platform_send() {
  local method=$1 url=$2 data=$3 out=$4 headers
  headers=$(platform_headers)
  local opts=(--silent --show-error --max-time 120 --request "$method" --header @"$headers"
    --output "$out" --write-out '%{http_code}')
  [ "$method" != GET ] || opts+=(--retry 3)
  [ -z "$data" ] || opts+=(--header 'Content-Type: application/json' --data @"$data")
  curl "${opts[@]}" "$url" 2>"$tmp/curl.log" || true
}

sync_failed() {
  local status=$1 what=$2 body=$3 hint=''
  case "$status" in
    000) fail "$what: no answer ($(cat "$tmp/curl.log" 2>/dev/null))" ;;
    401 | 403 | 404)
      if [ "$(platform)" = github ]; then
        hint=": the token may not do this. CLICKUP_MEMBERS_SYNC_TOKEN needs Contents and Pull requests read and write on this repository; without it the workflow needs permissions contents: write and pull-requests: write, and the repository setting \"Allow GitHub Actions to create and approve pull requests\" (Settings, Actions, General)"
      else
        hint=": the token may not do this. CLICKUP_MEMBERS_SYNC_TOKEN is a project access token with api and the Developer role (a Reporter cannot open a merge request)"
      fi
      ;;
  esac
  fail "$what was answered $status$hint. $(head -c 300 "$body" 2>/dev/null)"
}

# The sync's request still open (its number on GitHub, its iid on GitLab), or nothing.
sync_open_request() {
  local status
  if [ "$(platform)" = github ]; then
    local repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is the owner/name of the repository}
    status=$(platform_send GET "${GITHUB_API_URL:-https://api.github.com}/repos/$repo/pulls?state=open&head=${GITHUB_REPOSITORY_OWNER:-${repo%%/*}}:$sync_branch&per_page=100" "" "$tmp/requests.json")
    [ "$status" = 200 ] || sync_failed "$status" "GET /repos/$repo/pulls?head=…:$sync_branch" "$tmp/requests.json"
    jq -r --arg branch "$sync_branch" '[.[] | select(.head.ref == $branch)][0].number // empty' "$tmp/requests.json"
  else
    local project=${CI_PROJECT_ID:?CI_PROJECT_ID is the project}
    status=$(platform_send GET "${CI_API_V4_URL:?CI_API_V4_URL is the API of GitLab}/projects/$project/merge_requests?state=opened&source_branch=$sync_branch&per_page=100" "" "$tmp/requests.json")
    [ "$status" = 200 ] || sync_failed "$status" "GET /projects/$project/merge_requests?source_branch=$sync_branch" "$tmp/requests.json"
    jq -r --arg branch "$sync_branch" '[.[] | select(.source_branch == $branch)][0].iid // empty' "$tmp/requests.json"
  fi
}

# Opens the sync's pull/merge request into BASE, or updates the one open: title, summary, base.
# shellcheck disable=SC2016 # jq programs, not shell
sync_request() {
  local where=$1 base=$2 id status
  id=$(sync_open_request)
  if [ "$where" = github ]; then
    local pulls=${GITHUB_API_URL:-https://api.github.com}/repos/$GITHUB_REPOSITORY/pulls
    json_body body "$tmp/sync.md" --arg t "$sync_title" --arg b "$base" --arg h "$sync_branch" \
      '. + {title: $t, head: $h, base: $b}' >"$tmp/request.json"
    if [ -n "$id" ]; then
      jq 'del(.head)' "$tmp/request.json" >"$tmp/update.json"
      status=$(platform_send PATCH "$pulls/$id" "$tmp/update.json" "$tmp/answer.json")
      [ "$status" = 200 ] || sync_failed "$status" "PATCH /repos/$GITHUB_REPOSITORY/pulls/$id" "$tmp/answer.json"
      say "updated the sync's pull request #$id: $sync_title"
    else
      status=$(platform_send POST "$pulls" "$tmp/request.json" "$tmp/answer.json")
      [ "$status" = 201 ] || sync_failed "$status" "POST /repos/$GITHUB_REPOSITORY/pulls" "$tmp/answer.json"
      say "opened the sync's pull request #$(jq -r '.number' "$tmp/answer.json"): $sync_title $(jq -r '.html_url // empty' "$tmp/answer.json")"
    fi
  else
    local mrs=$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests
    if [ -n "$id" ]; then
      json_body description "$tmp/sync.md" --arg t "$sync_title" --arg b "$base" \
        '. + {title: $t, target_branch: $b}' >"$tmp/request.json"
      status=$(platform_send PUT "$mrs/$id" "$tmp/request.json" "$tmp/answer.json")
      [ "$status" = 200 ] || sync_failed "$status" "PUT /projects/$CI_PROJECT_ID/merge_requests/$id" "$tmp/answer.json"
      say "updated the sync's merge request !$id: $sync_title"
    else
      json_body description "$tmp/sync.md" --arg t "$sync_title" --arg b "$base" --arg s "$sync_branch" \
        '. + {title: $t, source_branch: $s, target_branch: $b, remove_source_branch: true}' >"$tmp/request.json"
      status=$(platform_send POST "$mrs" "$tmp/request.json" "$tmp/answer.json")
      [ "$status" = 201 ] || sync_failed "$status" "POST /projects/$CI_PROJECT_ID/merge_requests" "$tmp/answer.json"
      say "opened the sync's merge request !$(jq -r '.iid' "$tmp/answer.json"): $sync_title $(jq -r '.web_url // empty' "$tmp/answer.json")"
    fi
  fi
}

# Nothing to sync: a sync request still open proposes what the identity provider no longer
# holds (or what was merged another way), and is closed, saying why.
sync_close_stale() {
  local id status
  id=$(sync_open_request)
  [ -n "$id" ] || return 0
  printf '%s\n' "$sync_marker" \
    "Closed by the scheduled sync: the identity provider now holds what the default branch already says, so nothing is left to change." \
    >"$tmp/closing.md"
  json_body body "$tmp/closing.md" . >"$tmp/note.json"
  if [ "$(platform)" = github ]; then
    local repo=${GITHUB_API_URL:-https://api.github.com}/repos/$GITHUB_REPOSITORY
    status=$(platform_send POST "$repo/issues/$id/comments" "$tmp/note.json" "$tmp/answer.json")
    [ "$status" = 201 ] || sync_failed "$status" "POST /repos/$GITHUB_REPOSITORY/issues/$id/comments" "$tmp/answer.json"
    printf '{"state": "closed"}\n' >"$tmp/close.json"
    status=$(platform_send PATCH "$repo/pulls/$id" "$tmp/close.json" "$tmp/answer.json")
    [ "$status" = 200 ] || sync_failed "$status" "PATCH /repos/$GITHUB_REPOSITORY/pulls/$id" "$tmp/answer.json"
    say "closed the sync's pull request #$id: nothing is left to change"
  else
    local mr=$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$id
    status=$(platform_send POST "$mr/notes" "$tmp/note.json" "$tmp/answer.json")
    [ "$status" = 201 ] || sync_failed "$status" "POST /projects/$CI_PROJECT_ID/merge_requests/$id/notes" "$tmp/answer.json"
    printf '{"state_event": "close"}\n' >"$tmp/close.json"
    status=$(platform_send PUT "$mr" "$tmp/close.json" "$tmp/answer.json")
    [ "$status" = 200 ] || sync_failed "$status" "PUT /projects/$CI_PROJECT_ID/merge_requests/$id" "$tmp/answer.json"
    say "closed the sync's merge request !$id: nothing is left to change"
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
  reviewed-plan) cmd_reviewed_plan "$@" ;;
  drift) cmd_drift "$@" ;;
  report) cmd_report "$@" ;;
  sync) cmd_sync "$@" ;;
  fetch-state) cmd_fetch_state "${1:-optional}" ;;
  push-state) cmd_push_state "$@" ;;
  init-state) cmd_init_state ;;
  *)
    # The commands of the header: its lines up to the second bare "#".
    awk 'NR > 1 && /^#$/ && ++blank == 2 { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 64
    ;;
esac
