#!/usr/bin/env bash
# smimp reading commands end to end over real TLS with two smimpd (a.test,
# b.test): alice#a.test is made with `smimp init`; bob#b.test (seeded keys)
# sends to her across the domains with smimp-read-seal and curl, so the
# payloads can be hostile. Covers list (paging, --unread, --json), read
# (verify, decrypt, safe rendering, attachments with hostile names saved
# safely, secrets not shown, custom payloads), INVALID messages (ciphertext
# or hash tampered in the server's database, a sender key not in the
# sender's history, a malformed payload), the replay warning (an envelope
# stored twice), the ephemeral key marked used, mark, mv, rm and folders.
# Usage: smimp_client_read.sh SMIMP SMIMPD TESTCLIENT SEAL
set -euo pipefail

abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
SMIMP=$(abs "${1:?usage: $0 SMIMP SMIMPD TESTCLIENT SEAL}")
SMIMPD=$(abs "${2:?}")
TC=$(abs "${3:?}")
SEAL=$(abs "${4:?}")
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY SMIMP_PASSPHRASE
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lib_init smimp_client_read
export SMIMP_KDF=interactive   # fast Argon2id for tests only

make_certs
start_two_domains "$SMIMPD" "pow_zero_bits = 4
max_list_page = 50"
A=https://a.test:$PA
CONNECT=(--connect-to "a.test:$PA:127.0.0.1:$PA" --connect-to "b.test:$PB:127.0.0.1:$PB")
DB=$TMP/a.db

HA=$TMP/alice-home
echo "alice's keystore passphrase" > pass.txt
S() { "$SMIMP" --home "$HA" "${TLS_ARGS[@]}" --passphrase-file pass.txt "$@"; }

# expect_rc NAME RC CMD...: runs CMD, stdout in last.out, stderr in last.err.
has() {   # has NAME FILE FIXED_STRING
	if grep -qF -- "$3" "$2"; then pass "$1"; else fail "$1: no '$3' in $(head -c 1500 "$2")"; fi
}
hasnt() {
	if grep -qF -- "$3" "$2"; then fail "$1: '$3' found in $(head -c 1500 "$2")"; else pass "$1"; fi
}

# ---- accounts ---------------------------------------------------------------
"$SMIMPD" --config a.conf account add alice#a.test > alice.pw
expect_rc "smimp init alice#a.test" 0 S init alice#a.test --password-file alice.pw --ephemeral 40
pw=$("$SMIMPD" --config b.conf account add bob#b.test)
ST=$(curl -sS -o body.out -w '%{http_code}' --cacert ca.pem "${CONNECT[@]}" -X POST \
	-H 'Content-Type: application/json' --data-binary "$("$TC" init-body bob#b.test "$pw" 2 5)" \
	"https://b.test:$PB/0.1/initialize_account/bob%23b.test")
[[ $ST == 200 ]] && pass "bob#b.test initialized (seeded keys)" || fail "bob init: $ST $(cat body.out)"
BOB_PK=$("$TC" pubkey 2)

# bob logs in to a.test as a remote user (a.test resolves him on b.test).
api() {  # api METHOD PATH [BODY]: ST and BODY
	local args=(-X "$1" -H "SMIMP-Authentication: ${SESS:-none}")
	[[ $# -ge 3 ]] && { printf '%s' "$3" > req.json; args+=(-H 'Content-Type: application/json' --data-binary @req.json); }
	ST=$(curl -sS -o api.out -w '%{http_code}' --cacert ca.pem "${CONNECT[@]}" "${args[@]}" "$A/0.1/$2") || ST=curl-error
	BODY=$(cat api.out)
}
api GET "create_session/bob%23b.test"
TOKEN=$(jq -r .token <<<"$BODY")
api POST "create_session/bob%23b.test" "$("$TC" login-body "$A" bob#b.test "$TOKEN" 2)"
SESS=$(jq -r .session <<<"$BODY")
[[ $ST == 200 && -n $SESS ]] && pass "bob logged in to a.test" || fail "bob login: $ST $BODY"

# send FILE [TYPE]: bob sends the plaintext in FILE to alice; MID = its id.
send() {
	local type=${2:-email} key nonce zb
	api POST get_message_key '{"address":"alice#a.test"}'
	key=$(jq -r .message_key.key <<<"$BODY")
	LAST_KEY=$key
	api GET "get_pow_params/alice%23a.test/$type"
	nonce=$(jq -r .nonce <<<"$BODY")
	zb=$(jq -r .zero_bits <<<"$BODY")
	api POST "send_message/alice%23a.test" \
		"$("$SEAL" alice#a.test bob#b.test 2 "$key" "$TOKEN" "$type" "$nonce" "$zb" "$1")"
	MID=$(jq -r .message_id <<<"$BODY" 2>/dev/null || true)
	[[ $ST == 200 ]] || fail "send $1: $ST $BODY"
}
b64() { printf '%s' "$1" | base64 -w0; }
# email JSON: email SUBJECT BODY ATTACHMENTS_JSON
email() {
	jq -cn --arg s "$1" --arg b "$2" --argjson at "${3:-[]}" --arg t "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
		'{to:["alice#a.test"], cc:[], subject:$s, thread_id:$t, reply_to_message_id:null,
		  date_sent:"2024-01-02 03:04:05", body:$b, signature:null, attachments:$at,
		  extensions:null, reply_to:null, auto_reply_address:null}'
}

# ---- an ordinary email --------------------------------------------------------
email "Hello Alice" $'Hi *Alice*,\n\nsee [the picture](https://evil.example/x.png)\n![img](https://evil.example/track.gif)\n\n\tindented\n' \
	"[{\"filename\":\"notes.txt\",\"content\":\"$(b64 $'attached text\n')\"}]" > m1.json
send m1.json
M1=$MID
expect_rc "list" 0 S list
has "list shows the message, unread" last.out "N  "
has "list shows its id" last.out "$M1"
has "list shows the sender" last.out "bob#b.test"
expect_rc "list --json" 0 S list --json
jq -e ".messages[0].message_id == \"$M1\" and .messages[0].read == false and .messages[0].from == \"bob#b.test\" and .next == null" last.out >/dev/null &&
	pass "list --json" || fail "list --json: $(cat last.out)"

expect_rc "read the email" 0 S read "$M1" --save-attachments "$TMP/att1"
has "read: valid" last.out "VALID: signed by bob#b.test"
has "read: subject" last.out "Subject      Hello Alice"
has "read: date flagged as the sender's claim" last.out "2024-01-02 03:04:05 UTC (the sender's clock: not verified)"
has "read: body" last.out "Hi *Alice*,"
has "read: links shown as text" last.out "see [the picture](https://evil.example/x.png)"
has "read: images not fetched, shown as text" last.out "![img](https://evil.example/track.gif)"
has "read: tab kept" last.out $'\tindented'
has "read: attachment listed" last.out "1. notes.txt (14 bytes) saved as"
[[ $(cat "$TMP/att1/notes.txt") == "attached text" ]] && pass "attachment saved" || fail "attachment content"
[[ $(stat -c %a "$TMP/att1/notes.txt") == 600 && $(stat -c %a "$TMP/att1") == 700 ]] &&
	pass "attachment 0600 in a 0700 directory" || fail "modes $(stat -c %a "$TMP/att1/notes.txt") $(stat -c %a "$TMP/att1")"
grep -q "evil.example" a.log b.log && fail "a link was fetched" || pass "nothing fetched"
expect_rc "list after read" 0 S list --json
jq -e ".messages[0].read == true" last.out >/dev/null && pass "read marks it read" || fail "not marked read: $(cat last.out)"
expect_rc "mark unread" 0 S mark "$M1" unread
expect_rc "list --unread" 0 S list --unread
has "unread again" last.out "$M1"
expect_rc "read --no-mark" 0 S read "$M1" --no-mark
expect_rc "list --unread after --no-mark" 0 S list --unread --json
jq -e '.messages | length == 1' last.out >/dev/null && pass "--no-mark leaves it unread" || fail "--no-mark: $(cat last.out)"
expect_rc "mark read" 0 S mark "$M1" read
expect_rc "list --unread: none" 0 S list --unread
has "no unread messages" last.out "(no unread messages)"

# The ephemeral key is marked used (kept 30 days) after the read.
expect_rc "keys --json" 0 S keys --json
jq -e '.local.ephemeral_discarded >= 1' last.out >/dev/null && pass "ephemeral key marked used after reading" ||
	fail "ephemeral key not marked used: $(cat last.out)"
[[ -f $HA/accounts/alice#a.test/received && $(stat -c %a "$HA/accounts/alice#a.test/received") == 600 ]] &&
	pass "received record written (0600)" || fail "no received record"

# ---- hostile text and file names ------------------------------------------
AT=$(jq -cn --arg c "$(b64 x)" '[
  {filename:".bashrc", content:$c}, {filename:"..hidden", content:$c},
  {filename:"-rf", content:$c}, {filename:"notes.txt", content:$c},
  {filename:"notes.txt", content:$c}, {filename:"report.pdf", content:$c},
  {filename:"link.txt", content:$c},
  {filename:"evil\u202etxt.exe", content:$c}, {filename:"c1\u009b31m.txt", content:$c},
  {filename:("L" * 255), content:$c}]')
email $'\e[31mRED\e]52;c;Y3VybCBldmlsfHNo\a subject' $'line1\e[2J\rOVERWRITE\n\xc2\x9b31m C1 \xe2\x80\xae bidi\n\e]8;;https://evil.example\e\\click\e]8;;\e\\\n' "$AT" > m2.json
send m2.json
M2=$MID
mkdir -m 700 "$TMP/att2"
echo "precious" > "$TMP/att2/report.pdf"
echo "outside" > "$TMP/outside.txt"
ln -s "$TMP/outside.txt" "$TMP/att2/link.txt"
expect_rc "read a hostile email" 0 S read "$M2" --save-attachments "$TMP/att2"
if LC_ALL=C grep -q $'\e' last.out; then fail "raw ESC reached the output"; else pass "no raw ESC in the output"; fi
if LC_ALL=C grep -q $'\r' last.out; then fail "raw CR reached the output"; else pass "no raw CR in the output"; fi
if LC_ALL=C grep -q $'\x07' last.out; then fail "raw BEL reached the output"; else pass "no raw BEL"; fi
if LC_ALL=C grep -q $'\xc2\x9b' last.out; then fail "raw C1 CSI reached the output"; else pass "no raw C1 CSI"; fi
if LC_ALL=C grep -q $'\xe2\x80\xae' last.out; then fail "raw bidi override in the output"; else pass "no raw bidi override"; fi
has "ESC shown escaped in the subject" last.out 'Subject      \x1b[31mRED\x1b]52;c;Y3VybCBldmlsfHNo\x07 subject'
has "CR shown escaped in the body" last.out 'line1\x1b[2J\x0dOVERWRITE'
has "bidi shown escaped" last.out '\u202e bidi'
ls -A "$TMP/att2" | sort > att2.ls
for f in bashrc hidden rf notes.txt notes-1.txt report-1.pdf link-1.txt 'evil_txt.exe' 'c1_31m.txt'; do
	grep -qxF "$f" att2.ls && pass "saved as $f" || fail "no $f in: $(tr '\n' ' ' < att2.ls)"
done
grep -q '^\.' att2.ls && fail "a dot file was created: $(cat att2.ls)" || pass "no dot files"
[[ $(cat "$TMP/att2/report.pdf") == precious ]] && pass "existing file not overwritten" || fail "report.pdf overwritten"
[[ $(cat "$TMP/outside.txt") == outside ]] && pass "symlink not followed" || fail "symlink followed"
long=$(grep '^LLL' att2.ls || true)
[[ ${#long} -eq 200 ]] && pass "long name cut to 200 bytes" || fail "long name: ${#long}"
[[ $(find "$TMP/att2" -type f ! -name report.pdf ! -perm 600 | wc -l) -eq 0 ]] && pass "all saved 0600" ||
	fail "modes: $(find "$TMP/att2" -type f ! -perm 600)"
expect_rc "read the same attachments again: new names" 0 S read "$M2" --save-attachments "$TMP/att2"
[[ -f $TMP/att2/notes-2.txt && -f $TMP/att2/bashrc-1 ]] && pass "second save: unique names" || fail "second save: $(ls -A "$TMP/att2" | tr '\n' ' ')"

# Path separators and control characters in a file name: the library
# refuses the payload, so the message is INVALID and nothing is written.
email "traversal" "body text TRAVERSAL" "[{\"filename\":\"../../etc/passwd\",\"content\":\"$(b64 x)\"}]" > m3.json
send m3.json
M3=$MID
expect_rc "read: ../../etc/passwd as a file name" 65 S read "$M3" --save-attachments "$TMP/att3"
has "traversal: INVALID" last.out "INVALID: the decrypted content is not a valid payload"
hasnt "traversal: no content" last.out "TRAVERSAL"
[[ ! -e $TMP/att3 && ! -e $TMP/etc/passwd ]] && pass "traversal: nothing written" || fail "traversal wrote files"
jq -cn --arg c "$(b64 x)" '[{filename:"bell\u0007.txt", content:$c}]' > at4.json
email "ctl" "CTLBODY" "$(cat at4.json)" > m4.json
send m4.json
expect_rc "read: control character in a file name" 65 S read "$MID" --save-attachments "$TMP/att4"
hasnt "control file name: no content" last.out "CTLBODY"

# ---- tampering in the server's database -------------------------------------
sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$@"; }
email "tamper" "SECRET-TAMPER-BODY" > m5.json
send m5.json
M5=$MID
sql "UPDATE messages SET ciphertext = randomblob(length(ciphertext)) WHERE message_id = X'$M5';"
expect_rc "read: ciphertext altered on the server" 65 S read "$M5"
has "altered ciphertext: INVALID" last.out "INVALID: the message hash does not verify"
hasnt "altered ciphertext: no content" last.out "SECRET-TAMPER"
expect_rc "invalid message left unread" 0 S list --unread --json
jq -e ".messages | map(.message_id) | index(\"$M5\") != null" last.out >/dev/null &&
	pass "invalid message not marked read" || fail "invalid message marked read"
email "tamper2" "SECRET-HASH-BODY" > m6.json
send m6.json
M6=$MID
sql "UPDATE messages SET message_hash = randomblob(96) WHERE message_id = X'$M6';"
expect_rc "read: message_hash altered" 65 S read "$M6"
has "altered hash: INVALID" last.out "INVALID"
hasnt "altered hash: no content" last.out "SECRET-HASH"
email "forged" "SECRET-FORGED-BODY" > m7.json
send m7.json
M7=$MID
sql "UPDATE messages SET sender_public_key = X'$("$TC" pubkey 9)' WHERE message_id = X'$M7';"
expect_rc "read: sender key not in the sender's history" 65 S read "$M7"
has "foreign sender key: INVALID" last.out "sender_public_key is not a key of bob#b.test's validated history"
hasnt "foreign sender key: no content" last.out "SECRET-FORGED"
sql "UPDATE messages SET message_public_key = randomblob(32) WHERE message_id = X'$(
	email x y > m8.json; send m8.json; echo "$MID")';"
expect_rc "read: message_public_key altered (bound by the hash)" 65 S read "$MID"
has "altered message key: INVALID" last.out "INVALID"

# ---- replay: the same envelope stored twice ---------------------------------
email "once" "replayed body" > m9.json
send m9.json
M9=$MID
K9=$LAST_KEY
COLS="account_id, recipient, sender, sender_public_key, message_type, algorithm, message_public_key, nonce, ciphertext, proof_of_work, pow_zero_bits, pow_nonce, message_hash, login_token_hash, session_hash, received_at, received_via, protocol_version, read, extensions, folder_id, size"
sql "INSERT INTO messages (message_id, $COLS) SELECT randomblob(32), $COLS FROM messages WHERE message_id = X'$M9';"
COPY=$(sql "SELECT lower(hex(message_id)) FROM messages WHERE message_hash = (SELECT message_hash FROM messages WHERE message_id = X'$M9') AND message_id != X'$M9';")
expect_rc "read the original" 0 S read "$M9"
hasnt "original: no warning" last.out "WARNING"
expect_rc "read the original again" 0 S read "$M9"
hasnt "rereading is no replay" last.out "WARNING"
expect_rc "read the stored copy" 0 S read "$COPY"
has "copy: replay warning" last.out "this very envelope was received before as message $M9"

# Two messages to one ephemeral key: a second, validly signed envelope to
# M9's key, stored next to it (as a server reusing keys would).
email "reuse" "second message to one key" > m10.json
"$SEAL" alice#a.test bob#b.test 2 "$K9" "$TOKEN" email "$(printf '1%.0s' {1..64})" 0 m10.json > reuse.json
hexof() { od -An -tx1 -v | tr -d ' \n'; }
CT=$(jq -r .message reuse.json | base64 -d | hexof)
NC=$(jq -r .nonce reuse.json)
MH=$(jq -r .message_hash reuse.json)
PW=$(jq -r .proof_of_work reuse.json)
REST="account_id, recipient, sender, sender_public_key, message_type, algorithm, message_public_key, pow_zero_bits, pow_nonce, login_token_hash, session_hash, received_at, received_via, protocol_version, read, extensions, folder_id"
sql "INSERT INTO messages (message_id, ciphertext, nonce, message_hash, proof_of_work, size, $REST)
     SELECT randomblob(32), X'$CT', X'$NC', X'$MH', '$PW', $(( ${#CT} / 2 )), $REST FROM messages WHERE message_id = X'$M9';"
REUSE=$(sql "SELECT lower(hex(message_id)) FROM messages WHERE message_hash = X'$MH';")
expect_rc "read a second message to one ephemeral key" 0 S read "$REUSE"
has "key reuse: still valid" last.out "VALID: signed by bob#b.test"
has "key reuse: warning" last.out "another message ($M9) was sent to the same one-time"
has "key reuse: content shown" last.out "second message to one key"

# ---- other types ------------------------------------------------------------
jq -cn '{key:"4242424242424242424242424242424242424242424242424242424242424242", note:"the \u001b[1mshared\u001b[0m key"}' > s1.json
send s1.json secret-xsalsa20
expect_rc "read a secret-xsalsa20 message" 0 S read "$MID" --no-mark
has "secret: kind shown" last.out "XSalsa20 secret key (secret-xsalsa20)"
hasnt "secret: key not shown" last.out "42424242"
has "secret: how to import" last.out "smimp keys import $MID"
has "secret: note escaped" last.out 'the \x1b[1mshared\x1b[0m key'
expect_rc "list --type secret-xsalsa20" 0 S list --type secret-xsalsa20 --json
jq -e ".messages[0].message_id == \"$MID\"" last.out >/dev/null && pass "list by type" || fail "list by type: $(cat last.out)"
printf 'raw\x00bytes\x1b' > c1.bin
send c1.bin x-custom-blob
C1=$MID
expect_rc "read a custom message" 0 S read "$C1"
has "custom: size only" last.out "Custom data  10 bytes of type x-custom-blob"
expect_rc "read --raw to a file" 0 S read "$C1" --raw
cmp -s last.out c1.bin && pass "--raw writes the exact bytes" || fail "--raw: $(od -c last.out | head)"
expect_rc "--raw on an email" 64 S read "$M1" --raw

# ---- paging -------------------------------------------------------------------
expect_rc "list --limit 2" 0 S list --limit 2 --json
N1=$(jq -r '.next' last.out)
jq -e '.messages | length == 2' last.out >/dev/null && [[ $N1 != null ]] && pass "first page of 2 with a cursor" ||
	fail "page: $(cat last.out)"
expect_rc "list --after" 0 S list --limit 2 --after "$N1" --json
P2=$(jq -r '.messages[0].message_id' last.out)
expect_rc "list --all --limit 2" 0 S list --all --limit 2 --json
TOTAL=$(sql "SELECT count(*) FROM messages WHERE message_type = 'email' AND folder_id IS NULL;")
jq -e ".messages | length == $TOTAL" last.out >/dev/null && pass "--all follows the cursors ($TOTAL messages)" ||
	fail "--all: $(jq '.messages | length' last.out) of $TOTAL"
[[ $(jq -r '.messages[].message_id' last.out | sort -u | wc -l) -eq $TOTAL ]] && pass "no repeats across pages" || fail "repeats"
[[ $(jq -r '.messages[2].message_id' last.out) == "$P2" ]] && pass "--after continues where page 1 ended" || fail "--after"
expect_rc "list: human paging hint" 0 S list --limit 1
has "list: next page hint" last.out "--after"

# ---- folders, mv, rm -----------------------------------------------------------
expect_rc "folders: none yet" 0 S folders
has "folders: empty" last.out "(no folders"
expect_rc "folders create work" 0 S folders create work --display-name $'Work \e[5m'
expect_rc "folders create sub" 0 S folders create sub --parent work
expect_rc "folders create work again" 69 S folders create work
has "duplicate folder explained" last.err "exists already"
expect_rc "folders create bad name" 64 S folders create "Bad/Name"
expect_rc "folders create under a missing parent" 69 S folders create x --parent nosuch
expect_rc "folders create for short messages" 0 S folders create texts --type short-message
expect_rc "folders" 0 S folders
has "folders: escaped display name" last.out 'Work \x1b[5m'
has "folders: child" last.out "sub"
expect_rc "folders --type email --json" 0 S folders --type email --json
jq -e '.folders | length == 2 and (map(.message_type) | unique == ["email"])' last.out >/dev/null &&
	pass "folders --json by type" || fail "folders --json: $(cat last.out)"
expect_rc "mv to work" 0 S mv "$M1" work
expect_rc "list --folder work" 0 S list --folder work --json
jq -e ".messages[0].message_id == \"$M1\"" last.out >/dev/null && pass "moved" || fail "mv: $(cat last.out)"
expect_rc "mv to a folder of another type" 69 S mv "$M1" texts
expect_rc "mv to a missing folder" 66 S mv "$M1" nosuch
expect_rc "mv without a folder" 64 S mv "$M1"
expect_rc "folders delete a non-empty folder" 69 S folders delete email work
has "not empty explained" last.err "not empty"
expect_rc "folders rename" 0 S folders rename email sub sub2 --root
expect_rc "folders after rename" 0 S folders --type email --json
jq -e '.folders | map(select(.name == "sub2"))[0] | .parent == null and .display_name == "sub2"' last.out >/dev/null &&
	pass "renamed and moved to the root" || fail "rename: $(cat last.out)"
expect_rc "folders rename a missing folder" 66 S folders rename email nosuch x
expect_rc "mv --root" 0 S mv "$M1" --root
expect_rc "folders delete work" 0 S folders delete email work
expect_rc "folders delete it again" 69 S folders delete email work
expect_rc "folders delete bad type" 64 S folders delete letters work
expect_rc "folders unknown action" 64 S folders frobnicate
expect_rc "rm (not a terminal: no question)" 0 S rm "$M3" </dev/null
expect_rc "read a deleted message" 66 S read "$M3"
expect_rc "rm it again" 66 S rm "$M3" --yes
expect_rc "rm a bad id" 64 S rm 1234
expect_rc "read a bad id" 64 S read "not-an-id"
expect_rc "mark with a bad flag" 64 S mark "$M1" maybe
expect_rc "mark an unknown message" 66 S mark "$(printf '0%.0s' {1..64})" read
expect_rc "list --type bogus" 64 S list --type bogus
expect_rc "read --help" 0 S read --help
has "read --help" last.out "--save-attachments DIR"

# ---- interoperation with smimp send (when this build has it) ---------------
if "$SMIMP" send --help >/dev/null 2>&1; then
	HC=$TMP/carol-home
	C() { "$SMIMP" --home "$HC" "${TLS_ARGS[@]}" --passphrase-file pass.txt "$@"; }
	"$SMIMPD" --config b.conf account add carol#b.test > carol.pw
	expect_rc "smimp init carol#b.test" 0 C init carol#b.test --password-file carol.pw --ephemeral 5
	printf 'attached by smimp send\n' > "$TMP/report.txt"
	printf 'Hello from **carol**\n' > carol-body.md
	expect_rc "smimp send carol -> alice" 0 C send --to alice#a.test --subject "From carol" \
		--body-file carol-body.md --attach "$TMP/report.txt"
	expect_rc "list shows carol's email" 0 S list --json
	CM=$(jq -r '[.messages[] | select(.from == "carol#b.test")][0].message_id' last.out)
	expect_rc "read the email smimp send sent" 0 S read "$CM" --save-attachments "$TMP/att5"
	has "smimp send -> read: valid" last.out "VALID: signed by carol#b.test"
	has "smimp send -> read: subject" last.out "Subject      From carol"
	has "smimp send -> read: body" last.out "Hello from **carol**"
	cmp -s "$TMP/att5/report.txt" "$TMP/report.txt" && pass "smimp send -> read: attachment" ||
		fail "attachment of smimp send: $(ls -A "$TMP/att5" 2>&1)"
else
	echo "skip: this smimp has no send command"
fi

grep -q "alice's keystore passphrase" last.err a.log b.log && fail "passphrase leaked" || true
lib_finish a.log b.log
