#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2030,SC2031 # single-quoted container commands; bats subshells
# diff and commit (issue 6): the seed's flow with the real docker CLI (docker diff, docker
# commit, docker tag, docker run of the new image), deletions and opaque directories, changes
# (-c), layers shared with the base image, three layers deep, pause, the berth CLI, and the
# committed image read back by independent tools (docker save -> skopeo -> umoci).

load helpers
load registry
load ctr_common

bats_require_minimum_version 1.5.0

ctr_file_hooks

layer_count() {
    find "$DATA/layers" -mindepth 1 -maxdepth 1 -type d | wc -l
}

# ---------------------------------------------------------------------------------------------

@test "seed: docker diff, docker commit, docker run of the new image, docker tag" {
    ctr_start
    run docker_t run --name echo-hello-docker busybox sh -c 'echo "Hello Docker" > ~/hello-docker'
    assert_status 0
    run docker_t diff echo-hello-docker
    assert_status 0
    assert_eq "$output" $'C /root\nA /root/hello-docker'
    # The raw answer: docker's kinds, in order.
    run curl_b "http://x/v1.41/containers/echo-hello-docker/changes"
    assert_eq "$output" '[{"Path":"/root","Kind":0},{"Path":"/root/hello-docker","Kind":1}]'
    local before
    before="$(layer_count)"
    run docker_t commit echo-hello-docker hello:v1
    assert_status 0
    assert_match "$output" '^sha256:[0-9a-f]{64}$'
    local id="$output"
    # One new layer dir; the busybox layer is shared, not copied.
    assert_eq "$(layer_count)" "$((before + 1))"
    run docker_t run --rm hello:v1 cat /root/hello-docker
    assert_status 0
    assert_eq "$output" "Hello Docker"
    run docker_t image inspect -f '{{.Id}} {{len .RootFS.Layers}}' hello:v1
    assert_eq "$output" "$id 2"
    assert_eq "$(docker_t image inspect -f '{{index .RootFS.Layers 0}}' hello:v1)" \
        "$(docker_t image inspect -f '{{index .RootFS.Layers 0}}' busybox)"
    # docker tag: a second name for the same image, which runs too.
    docker_t tag hello:v1 hello-docker:second
    run docker_t images --format '{{.Repository}}:{{.Tag}} {{.ID}}' --no-trunc
    assert_contains "$output" "hello:v1 $id"
    assert_contains "$output" "hello-docker:second $id"
    run docker_t run --rm hello-docker:second cat /root/hello-docker
    assert_eq "$output" "Hello Docker"
    # docker history: the new layer on top, made by the container's command, sized.
    run docker_t history --no-trunc --format '{{.ID}}|{{.CreatedBy}}|{{.Size}}' hello:v1
    assert_status 0
    assert_match "$(head -n1 <<<"$output")" "^$id\\|sh -c echo \"Hello Docker\" > ~/hello-docker\\|[0-9.]+k?B$"
    assert_eq "$(wc -l <<<"$output")" "$(($(docker_t history -q busybox | wc -l) + 1))"
    # Unchanged: no changes shown and no layer added.
    docker_t run --name quiet busybox true
    run docker_t diff quiet
    assert_status 0
    assert_eq "$output" ""
    assert_eq "$(curl_b http://x/v1.41/containers/quiet/changes)" '[]'
    before="$(layer_count)"
    run docker_t commit quiet quiet:1
    assert_status 0
    assert_eq "$(layer_count)" "$before"
    assert_eq "$(docker_t image inspect -f '{{len .RootFS.Layers}}' quiet:1)" 1
    run docker_t rm echo-hello-docker quiet
    assert_fd_baseline
}

@test "deletions and opaque directories: D in diff, gone in the committed image" {
    ctr_start
    docker_t run --name del busybox sh -c \
        'rm /bin/vi && rm -rf /home && rm -rf /var && mkdir /var && echo new > /var/new && mkdir -p /usr/x && echo y > /usr/x/y' \
        >/dev/null
    run docker_t diff del
    assert_status 0
    assert_eq "$output" $'C /bin\nD /bin/vi\nD /home\nC /usr\nA /usr/x\nA /usr/x/y\nD /var\nA /var/new'
    run docker_t commit del deleted:1
    assert_status 0
    run docker_t run --rm deleted:1 sh -c 'test -e /bin/vi && echo vi; test -e /home && echo home; ls -A /var; cat /usr/x/y; test -x /bin/ls && echo ls'
    assert_status 0
    assert_eq "$output" $'new\ny\nls'
    # A container of the committed image starts from the committed state: no change yet.
    docker_t run --name again deleted:1 true
    run docker_t diff again
    assert_eq "$output" ""
    docker_t rm del again >/dev/null
}

@test "three layers deep; -c changes, -m and -a in the config" {
    ctr_start
    docker_t run --name one busybox sh -c 'echo 1 > /one' >/dev/null
    docker_t commit one stack:1 >/dev/null
    docker_t run --name two stack:1 sh -c 'echo 2 > /two; rm /one; echo 3 > /x' >/dev/null
    run docker_t diff two
    assert_eq "$output" $'D /one\nA /two\nA /x'
    run docker_t commit -m "second layer" -a "Ann <ann@example.com>" \
        -c 'CMD ["cat","/x"]' -c 'ENV A=b' -c 'ENV PATH=/bin:$PATH' -c 'EXPOSE 8080' \
        -c 'LABEL team="core dev"' -c 'WORKDIR /tmp' -c 'USER nobody' two stack:2
    assert_status 0
    run docker_t image inspect -f '{{len .RootFS.Layers}}|{{json .Config.Cmd}}|{{.Comment}}|{{.Author}}|{{.Config.WorkingDir}}|{{.Config.User}}|{{json .Config.ExposedPorts}}|{{json .Config.Labels}}' stack:2
    assert_eq "$output" '3|["cat","/x"]|second layer|Ann <ann@example.com>|/tmp|nobody|{"8080/tcp":{}}|{"team":"core dev"}'
    run docker_t image inspect -f '{{json .Config.Env}}' stack:2
    assert_contains "$output" '"A=b"'
    assert_contains "$output" '"PATH=/bin:/usr/local/sbin:'
    # The new CMD runs by default; the three layers stack up.
    run docker_t run --rm stack:2
    assert_status 0
    assert_eq "$output" 3
    run docker_t run --rm --user root stack:2 sh -c 'cat /two; test -e /one || echo no-one; echo $A'
    assert_eq "$output" $'2\nno-one\nb'
    # A bad change is refused before anything is written.
    local before
    before="$(layer_count)"
    run docker_t commit -c 'RUN echo no' two stack:3
    assert_failed
    assert_contains "$output" "RUN is not a valid change command"
    assert_eq "$(layer_count)" "$before"
    run docker_t commit two 'Bad:Name'
    assert_failed
    # Parent is the image committed from; history shows each commit's comment, newest first.
    local id1 id2 cid2
    id1="$(docker_t image inspect -f '{{.Id}}' stack:1)"
    id2="$(docker_t image inspect -f '{{.Id}}' stack:2)"
    cid2="$(docker_t inspect -f '{{.Id}}' two)"
    assert_eq "$(docker_t image inspect -f '{{.Parent}}' stack:2)" "$id1"
    assert_eq "$(docker_t image inspect -f '{{.Parent}}' busybox)" ""
    # the image list says the same (ParentId), and "" for a loaded image
    run curl_b "http://x/v1.44/images/json"
    assert_eq "$(jq -r --arg id "$id2" '.[] | select(.Id == $id) | .ParentId' <<<"$output")" "$id1"
    assert_eq "$(jq -r '.[] | select(.RepoTags == ["busybox:latest"]) | .ParentId' <<<"$output")" ""
    run docker_t history --no-trunc --format '{{.ID}}|{{.Comment}}' stack:2
    assert_status 0
    assert_eq "$(head -n2 <<<"$output")" "$id2|second layer"$'\n'"<missing>|"
    # Container and ContainerConfig (the container's config) until API 1.45, as dockerd.
    run curl_b "http://x/v1.44/images/stack:2/json"
    assert_contains "$output" "\"Container\":\"$cid2\""
    assert_contains "$output" '"Parent":"'"$id1"'"'
    assert_eq "$(jq -c '.ContainerConfig.Cmd' <<<"$output")" '["sh","-c","echo 2 > /two; rm /one; echo 3 > /x"]'
    run curl_b "http://x/v1.45/images/stack:2/json"
    assert_not_contains "$output" '"Container"'
    assert_not_contains "$output" '"ContainerConfig"'
    docker_t rm one two >/dev/null
}

@test "commit of a running container pauses it and leaves it running; --pause=false" {
    ctr_start
    docker_t run -d --name live busybox sh -c 'echo x > /live; exec sleep 300' >/dev/null
    run docker_t commit live live:1
    assert_status 0
    assert_eq "$(docker_t inspect -f '{{.State.Status}}' live)" running
    run docker_t run --rm live:1 cat /live
    assert_eq "$output" x
    run docker_t commit --pause=false live live:2
    assert_status 0
    assert_eq "$(docker_t inspect -f '{{.State.Status}}' live)" running
    # A container paused by the user stays paused.
    docker_t pause live >/dev/null
    run docker_t commit live live:3
    assert_status 0
    assert_eq "$(docker_t inspect -f '{{.State.Status}}' live)" paused
    docker_t unpause live >/dev/null
    docker_t rm -f live >/dev/null
    run docker_t commit nosuch x:1
    assert_failed
    assert_contains "$output" "No such container: nosuch"
    assert_fd_baseline
}

# freezer_state ID: FROZEN, FREEZING or THAWED from the container's freezer cgroup (v1), or
# FROZEN / THAWED from cgroup.events (v2). Reads with the read builtin: no fork per poll.
freezer_state() {
    local f line
    if [[ "$(host_cgroup_version)" == 1 ]]; then
        read -r line <"/sys/fs/cgroup/freezer/berth/$1/freezer.state" || return 1
        echo "$line"
        return 0
    fi
    f="/sys/fs/cgroup/berth/$1/cgroup.events"
    while read -r line; do
        [[ "$line" == "frozen 1" ]] && { echo FROZEN; return 0; }
    done <"$f"
    echo THAWED
}

# commit_watch ID ARGS...: runs `docker commit ARGS...` in the background and polls the
# container's freezer state until it ends; prints the states seen (each once, in the order
# seen), then "rc=<the commit's exit status>".
commit_watch() {
    local id=$1 pid s line
    shift
    local states="" cg
    if [[ "$(host_cgroup_version)" == 1 ]]; then
        cg="/sys/fs/cgroup/freezer/berth/$id/freezer.state"
    else
        cg="/sys/fs/cgroup/berth/$id/cgroup.events"
    fi
    [[ -e "$cg" ]] || fail "no freezer file $cg"
    docker_t commit "$@" >"$T/commit.out" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if [[ "$(host_cgroup_version)" == 1 ]]; then
            read -r s <"$cg" || true
        else
            s=THAWED
            while read -r line; do [[ "$line" == "frozen 1" ]] && s=FROZEN; done <"$cg"
        fi
        [[ "$states" == *"$s"* ]] || states+="$s "
    done
    local rc=0
    wait "$pid" || rc=$?
    echo "$states"
    echo "rc=$rc"
}

@test "commit freezes the container while it copies (pause defaults to true), never with --pause=false" {
    ctr_start
    # 100 MB in the upper dir makes the copy last long enough to be seen; the loop appends a
    # counter every few ms.
    docker_t run -d --name busy busybox sh -c \
        'head -c 100000000 /dev/zero > /big; i=0; while :; do i=$((i+1)); echo $i >> /count; usleep 2000; done' \
        >/dev/null
    local id n0 n1 n2
    id="$(docker_t inspect -f '{{.Id}}' busy)"
    # Wait for the loop to be counting.
    for ((n0 = 0; n0 < 200; n0++)); do
        docker_t exec busy test -s /count 2>/dev/null && break
        sleep 0.1
    done
    assert_eq "$(freezer_state "$id")" THAWED
    run commit_watch "$id" busy busy:paused
    assert_contains "$output" FROZEN
    assert_contains "$output" rc=0
    # The container is running again and still counting.
    assert_eq "$(docker_t inspect -f '{{.State.Status}}' busy)" running
    assert_eq "$(freezer_state "$id")" THAWED
    n1="$(docker_t exec busy tail -n1 /count)"
    sleep 0.3
    n2="$(docker_t exec busy tail -n1 /count)"
    ((n2 > n1)) || fail "the counter stopped after the commit: $n1 then $n2"
    # The committed image holds the counter file up to a whole line.
    run docker_t run --rm busy:paused sh -c 'tail -c 1 /count | od -An -c'
    assert_contains "$output" '\n'
    # --pause=false: the freezer is never engaged.
    run commit_watch "$id" --pause=false busy busy:live
    assert_not_contains "$output" FROZEN
    assert_contains "$output" THAWED
    assert_contains "$output" rc=0
    docker_t rm -f busy >/dev/null
}

@test "berth diff and berth commit" {
    ctr_start
    docker_t run --name b1 busybox sh -c 'echo hi > /tmp/hi; rm /bin/vi' >/dev/null
    run berth_t diff b1
    assert_status 0
    assert_eq "$output" $'C /bin\nD /bin/vi\nC /tmp\nA /tmp/hi'
    run berth_t commit -m via-berth -a me -c 'CMD ["cat","/tmp/hi"]' b1 berthimg:1
    assert_status 0
    assert_match "$output" '^sha256:[0-9a-f]{64}$'
    assert_eq "$(docker_t image inspect -f '{{.Id}}' berthimg:1)" "$output"
    run docker_t run --rm berthimg:1
    assert_eq "$output" hi
    assert_eq "$(docker_t image inspect -f '{{.Comment}}|{{.Author}}' berthimg:1)" 'via-berth|me'
    # No repository: an untagged image, as docker does.
    run berth_t commit --pause=false b1
    assert_status 0
    assert_match "$output" '^sha256:[0-9a-f]{64}$'
    assert_eq "$(docker_t image inspect -f '{{len .RepoTags}}' "$output")" 0
    # The same commands under `berth container`.
    run berth_t container diff b1
    assert_status 0
    assert_eq "$output" $'C /bin\nD /bin/vi\nC /tmp\nA /tmp/hi'
    run berth_t container commit -m via-container b1 berthimg:2
    assert_status 0
    assert_eq "$(docker_t image inspect -f '{{.Id}}|{{.Comment}}' berthimg:2)" "$output|via-container"
    run berth_t container cp b1:/tmp/hi "$T/hi-out"
    assert_status 0
    assert_eq "$(cat "$T/hi-out")" hi
    echo there >"$T/there"
    run berth_t container cp "$T/there" b1:/tmp/there
    assert_status 0
    run berth_t container export -o "$T/b1.tar" b1
    assert_status 0
    run tar -xOf "$T/b1.tar" tmp/there
    assert_eq "$output" there
    run berth_t container commit --help
    assert_contains "$output" "Usage:  berth container commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]"
    assert_contains "$output" "--pause"
    docker_t rm b1 >/dev/null
}

@test "docker save of a committed image is read by skopeo and unpacked by umoci" {
    command -v skopeo >/dev/null || skip "skopeo is not installed"
    command -v umoci >/dev/null || skip "umoci is not installed"
    ctr_start
    docker_t run --name s1 busybox sh -c 'echo "Hello Docker" > /root/hello-docker; rm /bin/vi; mkdir /d; ln /root/hello-docker /d/link' >/dev/null
    docker_t commit s1 saved:1 >/dev/null
    docker_t save -o "$T/saved.tar" saved:1
    run skopeo copy "docker-archive:$T/saved.tar" "oci:$T/oci:saved"
    assert_status 0
    run umoci unpack --image "$T/oci:saved" "$T/bundle"
    assert_status 0
    assert_eq "$(cat "$T/bundle/rootfs/root/hello-docker")" "Hello Docker"
    [[ ! -e "$T/bundle/rootfs/bin/vi" ]] || fail "/bin/vi survived the commit"
    [[ -e "$T/bundle/rootfs/bin/ls" ]] || fail "/bin/ls is missing"
    assert_eq "$(stat -c %i "$T/bundle/rootfs/root/hello-docker")" "$(stat -c %i "$T/bundle/rootfs/d/link")"
    # The layer digests skopeo computed are the diff-ids berthd recorded.
    run skopeo inspect --config "oci:$T/oci:saved"
    assert_contains "$output" "$(docker_t image inspect -f '{{index .RootFS.Layers 1}}' saved:1)"
    # No tar is kept for a committed layer: save packs the layer's files again, and files that
    # no longer pack to the diff-id fail the save rather than give a layer the config does not
    # name (the status went out already: the transfer is cut, the reason is in the log).
    local diff dir
    diff="$(docker_t image inspect -f '{{index .RootFS.Layers 1}}' saved:1)"
    [[ ! -e "$DATA/blobs/sha256/${diff#sha256:}" ]] || fail "a blob was stored for the commit"
    dir="$(grep -l "\"$diff\"" "$DATA"/layers/*/layer.json | head -n1)"
    [[ -n "$dir" ]] || fail "no layer dir with diff-id $diff"
    echo changed >"$(dirname "$dir")/diff/root/hello-docker"
    run docker_t save -o "$T/bad.tar" saved:1
    assert_failed
    assert_contains "$(cat "$LOG")" "layer $diff cannot be saved: its files pack to sha256:"
    docker_t rm s1 >/dev/null
}

@test "diff and commit fidelity (TEST-PLAN C7): whiteouts, opaque dirs, hardlinks, setuid, UTF-8 names; save/load round trip" {
    ctr_start
    docker_t run --name c7 busybox sh -c \
        'rm /etc/group; rm -rf /home; rm -rf /var && mkdir /var && echo v > /var/v;
         mkdir -p "/data/sp ace" && echo ü > "/data/sp ace/ünï" && ln "/data/sp ace/ünï" /data/hl;
         echo s > /data/suid && chmod 4755 /data/suid && mkfifo /data/fifo' >/dev/null
    run docker_t diff c7
    assert_status 0
    assert_eq "$output" $'A /data\nA /data/fifo\nA /data/hl\nA /data/sp ace\nA /data/sp ace/ünï\nA /data/suid\nC /etc\nD /etc/group\nD /home\nD /var\nA /var/v'
    docker_t commit c7 c7:1 >/dev/null
    local diff
    diff="$(docker_t image inspect -f '{{index .RootFS.Layers 1}}' c7:1)"
    docker_t save -o "$T/c7.tar" c7:1
    mkdir "$T/c7"
    tar -xf "$T/c7.tar" -C "$T/c7"
    # The layer as saved: OCI whiteouts, no 0:0 character device, the hardlink kept, setuid kept.
    run python3 -c '
import sys, tarfile
t = tarfile.open(sys.argv[1])
for m in t:
    kind = "link" if m.islnk() else "chr" if m.ischr() else "fifo" if m.isfifo() else "dir" if m.isdir() else "file"
    print(m.name, kind, oct(m.mode))' "$T/c7/blobs/sha256/${diff#sha256:}"
    assert_status 0
    assert_not_contains "$output" " chr "
    assert_contains "$output" ".wh.home file"
    assert_contains "$output" "etc/.wh.group file"
    assert_contains "$output" "var/.wh..wh..opq file"
    assert_contains "$output" "data/sp ace/ünï link"
    assert_contains "$output" "data/fifo fifo"
    assert_contains "$output" "data/suid file 0o4755"
    local probe='ls -la /data "/data/sp ace" /var /etc | grep -v " \.\.\?$" | sed "s/  */ /g" | cut -d" " -f1,2,5,9-; cat /data/hl /var/v'
    local before after
    before="$(docker_t run --rm c7:1 sh -c "$probe")"
    assert_contains "$before" "-rwsr-xr-x 1 2 suid"
    assert_contains "$before" "-rw-r--r-- 2 3 hl"
    docker_t rm c7 >/dev/null
    docker_t rmi c7:1 >/dev/null
    run docker_t load -i "$T/c7.tar"
    assert_status 0
    assert_eq "$(docker_t image inspect -f '{{index .RootFS.Layers 1}}' c7:1)" "$diff"
    after="$(docker_t run --rm c7:1 sh -c "$probe")"
    assert_eq "$after" "$before"
}
