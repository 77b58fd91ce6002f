#!/usr/bin/env bash
# Records the decoy mqtt_tls_telemetry.pcap: a real Mosquitto broker (Debian's mosquitto) and a
# real MQTT client (paho-mqtt from PyPI) over TLS 1.3 in two network namespaces of their own,
# for SECONDS seconds. The client publishes a fixed-format telemetry reading at QoS 1 at random
# moments (exponential gaps, mean 5 s: each publish answered by a PUBACK, a miner's rhythm of
# request and answer) and is subscribed to a topic a second client writes to now and then
# (the broker's pushes, like a pool's jobs). Nothing leaves the namespaces; run as root.
# Usage: record-mqtt-tls.sh OUT.pcap [SECONDS]
set -euo pipefail
out=$1 secs=${2:-200}
work=$(mktemp -d)
trap 'ip netns del mwrec-b 2>/dev/null || true; ip netns del mwrec-c 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
ip netns add mwrec-b
ip netns add mwrec-c
ip link add mwrb type veth peer name mwrc
ip link set mwrb netns mwrec-b
ip link set mwrc netns mwrec-c
ip -n mwrec-b addr add 192.168.77.1/24 dev mwrb
ip -n mwrec-c addr add 192.168.77.2/24 dev mwrc
for n in mwrec-b mwrec-c; do ip -n $n link set lo up; done
ip -n mwrec-b link set mwrb up
ip -n mwrec-c link set mwrc up
# A throwaway CA and server certificate.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca.key" -out "$work/ca.crt" -days 2 -subj "/CN=decoy-ca" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$work/srv.key" -out "$work/srv.csr" -subj "/CN=broker.decoy.example" 2>/dev/null
openssl x509 -req -in "$work/srv.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -out "$work/srv.crt" -days 2 2>/dev/null
chmod 755 "$work"; chmod 644 "$work"/*
cat > "$work/mosquitto.conf" <<CONF
listener 8883 192.168.77.1
cafile $work/ca.crt
certfile $work/srv.crt
keyfile $work/srv.key
allow_anonymous true
persistence false
CONF
ip netns exec mwrec-b mosquitto -c "$work/mosquitto.conf" > "$work/broker.log" 2>&1 &
sleep 1
ip netns exec mwrec-c tcpdump -i mwrc -w "$out" -U -s 2048 'tcp port 8883' >/dev/null 2>&1 &
sleep 1
cat > "$work/client.py" <<PY
import json, random, ssl, sys, time
import paho.mqtt.client as mqtt
random.seed(7)
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="sensor-17")
c.tls_set(ca_certs="$work/ca.crt", tls_version=ssl.PROTOCOL_TLS_CLIENT)
c.tls_insecure_set(True)
c.connect("192.168.77.1", 8883, keepalive=60)
c.subscribe("site/commands", qos=1)
c.loop_start()
end = time.time() + $secs
while time.time() < end:
    time.sleep(random.expovariate(1 / 5))
    reading = {"t": round(time.time(), 3), "temp": round(random.uniform(18, 27), 2), "rh": round(random.uniform(30, 60), 1)}
    c.publish("site/sensor-17/telemetry", json.dumps(reading), qos=1).wait_for_publish()
c.loop_stop()
c.disconnect()
PY
cat > "$work/commander.py" <<PY
import random, ssl, time
import paho.mqtt.client as mqtt
random.seed(11)
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="controller")
c.tls_set(ca_certs="$work/ca.crt", tls_version=ssl.PROTOCOL_TLS_CLIENT)
c.tls_insecure_set(True)
c.connect("192.168.77.1", 8883)
c.loop_start()
end = time.time() + $secs
while time.time() < end:
    time.sleep(random.uniform(20, 45))
    c.publish("site/commands", '{"cmd":"set-interval","seconds":%d}' % random.randint(3, 9), qos=1).wait_for_publish()
c.loop_stop()
PY
ip netns exec mwrec-b python3 "$work/commander.py" &
ip netns exec mwrec-c python3 "$work/client.py"
sleep 2
