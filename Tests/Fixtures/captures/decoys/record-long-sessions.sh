#!/usr/bin/env bash
# Records three decoys of long-lived encrypted traffic from real software, in two network
# namespaces of their own (server 192.168.78.1, clients 192.168.78.2), all at once for SECONDS
# seconds; nothing leaves the namespaces; run as root.
#   ssh_sessions.pcap      OpenSSH server (Debian's openssh-server) and paramiko clients (PyPI):
#                          an administrator typing commands key by key at a shell, and a second
#                          session following a log with `tail -f` while lines arrive at random
#                          moments; both with a 15 s keepalive.
#   websocket_chat.pcap    a chat room over wss:// (PyPI websockets 17, TLS 1.3): four users post
#                          messages of every length at random moments, the server relays each to
#                          everyone (the sender too), and pings every 20 s.
#   imap_idle.pcap         Dovecot (Debian's dovecot-imapd) over IMAPS and a Python imaplib
#                          client in IDLE: new mail arrives at random moments, the server pushes
#                          EXISTS, the client leaves IDLE, fetches the headers and idles again.
# Usage: record-long-sessions.sh OUTDIR [SECONDS]
set -euo pipefail
outdir=$(realpath "$1") secs=${2:-240}
work=$(mktemp -d)
S="ip netns exec mwlong-s" C="ip netns exec mwlong-c"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  [ -f "$work/sshd.pid" ] && kill "$(cat "$work/sshd.pid")" 2>/dev/null || true
  pkill -f "dovecot -c $work" 2>/dev/null || true
  ip netns del mwlong-s 2>/dev/null || true
  ip netns del mwlong-c 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add mwlong-s
ip netns add mwlong-c
ip link add mwls type veth peer name mwlc
ip link set mwls netns mwlong-s
ip link set mwlc netns mwlong-c
ip -n mwlong-s addr add 192.168.78.1/24 dev mwls
ip -n mwlong-c addr add 192.168.78.2/24 dev mwlc
for n in mwlong-s mwlong-c; do ip -n $n link set lo up; done
ip -n mwlong-s link set mwls up
ip -n mwlong-c link set mwlc up
chmod 755 "$work"

# A throwaway CA and server certificate for the TLS services.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca.key" -out "$work/ca.crt" -days 2 -subj "/CN=decoy-ca" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$work/srv.key" -out "$work/srv.csr" -subj "/CN=server.decoy.example" 2>/dev/null
openssl x509 -req -in "$work/srv.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -out "$work/srv.crt" -days 2 2>/dev/null
chmod 644 "$work"/*

# --- OpenSSH ---
ssh-keygen -q -t ed25519 -N "" -f "$work/ssh_host_ed25519_key"
ssh-keygen -q -t ed25519 -N "" -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
mkdir -p /run/sshd
cat > "$work/sshd_config" <<CONF
ListenAddress 192.168.78.1
Port 22
HostKey $work/ssh_host_ed25519_key
PermitRootLogin yes
AuthorizedKeysFile $work/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile $work/sshd.pid
CONF
$S /usr/sbin/sshd -f "$work/sshd_config" -E "$work/sshd.log"
: > "$work/app.log"
chmod 644 "$work/app.log"

# --- Dovecot ---
mkdir -p "$work/mail/alice/Maildir/"{new,cur,tmp} "$work/dovecot-run"
chown -R mail:mail "$work/mail"
echo "alice:{PLAIN}decoy-password::::::" > "$work/users"
chmod 644 "$work/users"
cat > "$work/dovecot.conf" <<CONF
protocols = imap
listen = 192.168.78.1
base_dir = $work/dovecot-run
log_path = $work/dovecot.log
ssl = required
ssl_cert = <$work/srv.crt
ssl_key = <$work/srv.key
first_valid_uid = 1
mail_location = maildir:$work/mail/%u/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $work/users
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$work/mail/%u
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 993
  }
}
CONF
$S dovecot -c "$work/dovecot.conf"

# --- The chat server ---
cat > "$work/chat_server.py" <<PY
import asyncio, ssl
from websockets.asyncio.server import serve, broadcast
clients = set()
async def room(ws):
    clients.add(ws)
    try:
        async for message in ws:
            broadcast(clients, message)
    finally:
        clients.discard(ws)
async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain("$work/srv.crt", "$work/srv.key")
    async with serve(room, "192.168.78.1", 8443, ssl=ctx, ping_interval=20):
        await asyncio.Future()
asyncio.run(main())
PY
$S python3 "$work/chat_server.py" &
sleep 2

$C tcpdump -i mwlc -w "$outdir/ssh_sessions.pcap" -U -s 2048 'tcp port 22' >/dev/null 2>&1 &
$C tcpdump -i mwlc -w "$outdir/websocket_chat.pcap" -U -s 2048 'tcp port 8443' >/dev/null 2>&1 &
$C tcpdump -i mwlc -w "$outdir/imap_idle.pcap" -U -s 2048 'tcp port 993' >/dev/null 2>&1 &
sleep 1

# Log lines at random moments for `tail -f`; mail at random moments for IDLE.
cat > "$work/writers.py" <<PY
import os, random, time
random.seed(5)
end = time.time() + $secs
nxt_log, nxt_mail, n = time.time(), time.time() + 10, 0
while time.time() < end:
    now = time.time()
    if now >= nxt_log:
        with open("$work/app.log", "a") as f:
            f.write("%s app[%d]: request %s served in %d ms\n" % (time.strftime("%H:%M:%S"), random.randint(100, 999), "/api/v1/items/%d" % random.randint(1, 10**6), random.randint(2, 900)))
        nxt_log = now + random.expovariate(1 / 8)
    if now >= nxt_mail:
        n += 1
        body = "From: news@decoy.example\r\nTo: alice@decoy.example\r\nSubject: Digest %d\r\n\r\n%s\r\n" % (n, "x" * random.randint(200, 4000))
        tmp = "$work/mail/alice/Maildir/tmp/%d.%d.decoy" % (time.time(), n)
        with open(tmp, "w") as f:
            f.write(body)
        os.chown(tmp, 8, 8)
        os.rename(tmp, os.path.join(os.path.dirname(os.path.dirname(tmp)), "new", os.path.basename(tmp)))
        nxt_mail = now + random.expovariate(1 / 25)
    time.sleep(0.2)
PY
python3 "$work/writers.py" &

cat > "$work/ssh_clients.py" <<PY
import random, threading, time, paramiko
random.seed(9)
end = time.time() + $secs
def connect():
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("192.168.78.1", username="root", key_filename="$work/client_key", look_for_keys=False, allow_agent=False)
    c.get_transport().set_keepalive(15)
    return c
def typist():
    c = connect()
    sh = c.invoke_shell()
    commands = ["uptime", "df -h", "ls -la /etc | head -20", "cat /proc/loadavg", "free -m", "ps aux | head", "date", "who", "uname -a", "ip -br addr"]
    while time.time() < end:
        for ch in random.choice(commands) + "\n":
            sh.send(ch)
            time.sleep(random.uniform(0.08, 0.35))
            while sh.recv_ready():
                sh.recv(65536)
        time.sleep(random.expovariate(1 / 6))
        while sh.recv_ready():
            sh.recv(65536)
    c.close()
def follower():
    c = connect()
    stdin, stdout, stderr = c.exec_command("tail -f $work/app.log")
    ch = stdout.channel
    while time.time() < end:
        if ch.recv_ready():
            ch.recv(65536)
        time.sleep(0.1)
    c.close()
ts = [threading.Thread(target=typist), threading.Thread(target=follower)]
for t in ts: t.start()
for t in ts: t.join()
PY
$C python3 "$work/ssh_clients.py" &

cat > "$work/chat_clients.py" <<PY
import asyncio, json, random, ssl, time
from websockets.asyncio.client import connect
random.seed(13)
end = time.time() + $secs
words = "the a meeting lunch at noon code review deploy later ok thanks see you tomorrow slides are up who has the link coffee".split()
async def user(name):
    ctx = ssl.create_default_context(cafile="$work/ca.crt")
    ctx.check_hostname = False
    async with connect("wss://192.168.78.1:8443/room", ssl=ctx) as ws:
        async def reader():
            async for _ in ws:
                pass
        r = asyncio.create_task(reader())
        while time.time() < end:
            await asyncio.sleep(random.expovariate(1 / 15))
            text = " ".join(random.choice(words) for _ in range(random.randint(1, 40)))
            await ws.send(json.dumps({"user": name, "text": text, "ts": round(time.time(), 3)}))
        r.cancel()
async def main():
    await asyncio.gather(*(user(n) for n in ["ana", "bo", "chen", "dee"]))
asyncio.run(main())
PY
$C python3 "$work/chat_clients.py" &

cat > "$work/imap_client.py" <<PY
import imaplib, select, ssl, time
end = time.time() + $secs
ctx = ssl.create_default_context(cafile="$work/ca.crt")
ctx.check_hostname = False
m = imaplib.IMAP4_SSL("192.168.78.1", 993, ssl_context=ctx)
m.login("alice", "decoy-password")
m.select("INBOX")
seen = 0
while time.time() < end:
    tag = m._new_tag().decode()
    m.send(("%s IDLE\r\n" % tag).encode())
    assert m.readline().startswith(b"+")
    # Wait for the server's push (new mail) or the end; the pending TLS bytes count as readable.
    while time.time() < end and not m.sock.pending() and not select.select([m.sock], [], [], 1)[0]:
        pass
    if time.time() < end:
        m.readline()
    m.send(b"DONE\r\n")
    while not m.readline().startswith(tag.encode()):
        pass
    typ, data = m.search(None, "UNSEEN")
    for num in data[0].split():
        m.fetch(num, "(BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])")
        m.store(num, "+FLAGS", "\\\\Seen")
m.logout()
PY
$C python3 "$work/imap_client.py" &

sleep "$secs"
sleep 5
