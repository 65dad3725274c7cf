// wsl_sio_client.js: the lab's client as a socket.io 4 client (npm socket.io-client, WebSocket
// transport only, which uses ws in Node.js). It opens --conns connections to
// http://HOST:PORT/socket.io/?conn=<n>, one after another, emits its client-to-server schedule
// as "chat" events on each, checks the server's "chat" events, then disconnects (socket.io's
// "41", then engine.io closes the WebSocket). Log: JSON lines in wsl_peer.Log's format.
//
// One documented adjustment, as wsl_patch.py does for Python: the Sec-WebSocket-Key is made
// deterministic (wsl_msgs.conn_key) by handing ws, which draws the key as crypto.randomBytes(16)
// when it builds the Upgrade request, the connection's key for that one call. Everything else
// (masking keys included: ws draws those with randomFillSync) stays random.
//
// node wsl_sio_client.js --host H --port P --scenario S --conns N --stagger S --deadline S
//   --schedule sched.json --log client.jsonl
'use strict';

const crypto = require('crypto');

let nextKey = null; // the 16 key bytes the next WebSocket handshake uses
const randomBytes = crypto.randomBytes;
crypto.randomBytes = function (size, cb) {
  if (size === 16 && cb === undefined && nextKey !== null) {
    const k = nextKey;
    nextKey = null;
    return k;
  }
  return randomBytes.apply(crypto, arguments);
};
// Only now: ws takes crypto.randomBytes when it is first required.
const { io } = require('socket.io-client');
const fs = require('fs');

function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error('bad argument ' + argv[i]);
    a[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of ['host', 'port', 'scenario', 'conns', 'stagger', 'deadline', 'schedule', 'log']) {
    if (!(k in a)) throw new Error('missing --' + k);
  }
  return a;
}

const args = parseArgs(process.argv.slice(2));
const sched = JSON.parse(fs.readFileSync(args.schedule, 'utf8'));
const logFd = fs.openSync(args.log, 'a');

function log(ev, kw) {
  const o = Object.assign({}, kw, { ev, side: 'client', t: Math.round(Date.now() * 1000) / 1e6 });
  const sorted = {};
  for (const k of Object.keys(o).sort()) sorted[k] = o[k];
  fs.writeSync(logFd, JSON.stringify(sorted) + '\n');
}

// connKey is wsl_msgs.conn_key: the first 16 bytes of SHA-256("wspath-netlab/<scenario>/<conn>").
function connKey(conn) {
  return crypto.createHash('sha256').update(`wspath-netlab/${args.scenario}/${conn}`).digest().subarray(0, 16);
}

const payload = (m) => (m.binary ? Buffer.from(m.data, 'base64') : m.data);
const same = (got, m) => (m.binary ? Buffer.isBuffer(got) && got.equals(payload(m)) : got === m.data);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// open connects connection conn and resolves with its socket, or null when it failed.
function open(conn) {
  const key = connKey(conn);
  nextKey = Buffer.from(key);
  const socket = io(`http://${args.host}:${args.port}`, {
    transports: ['websocket'], forceNew: true, reconnection: false, timeout: 5000,
    query: { conn: String(conn) }, extraHeaders: { 'X-Wsl-Conn': String(conn), 'User-Agent': 'wspath-netlab' },
  });
  const want = sched.conns[String(conn)].s2c;
  const st = { socket, n: 0, done: null };
  st.done = new Promise((resolve) => {
    st.resolve = resolve;
  });
  socket.on('chat', (data) => {
    log('recv', { conn, dir: 's2c', idx: st.n, ok: st.n < want.length && same(data, want[st.n]) });
    st.n++;
    if (st.n === want.length) st.resolve();
  });
  socket.on('disconnect', (reason) => {
    log('closed', { conn, code: null, reason, received: st.n });
    st.resolve();
  });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      const ws = socket.io.engine.transport.ws;
      const s = ws && ws._socket;
      log('open', {
        conn, key: key.toString('base64'), path: ws ? new URL(ws.url).pathname + new URL(ws.url).search : null,
        local: s ? `${s.localAddress}:${s.localPort}` : null, remote: s ? `${s.remoteAddress}:${s.remotePort}` : null,
        extensions: (ws && ws.extensions) || '', sid: socket.id,
      });
      resolve(st);
    });
    socket.once('connect_error', (e) => {
      log('connect_failed', { conn, error: String(e.message || e) });
      nextKey = null;
      resolve(null);
    });
  });
}

async function run(conn, st) {
  for (const m of sched.conns[String(conn)].c2s) {
    if (!st.socket.connected) {
      log('send_failed', { conn, dir: 'c2s', idx: m.idx, error: 'disconnected' });
      break;
    }
    st.socket.emit('chat', payload(m));
    log('send', { conn, dir: 'c2s', idx: m.idx });
    await sleep(sched.interval * 1000);
  }
  log('sent_all', { conn, dir: 'c2s' });
  const deadline = sleep(Number(args.deadline) * 1000).then(() => 'deadline');
  if ((await Promise.race([st.done, deadline])) === 'deadline') log('deadline', { conn });
  log('close_start', { conn });
  st.socket.disconnect();
}

async function main() {
  const runs = [];
  for (let conn = 1; conn <= Number(args.conns); conn++) {
    const st = await open(conn); // one at a time: each handshake takes its own key
    if (st) runs.push(run(conn, st));
    await sleep(Number(args.stagger) * 1000);
  }
  await Promise.all(runs);
  await sleep(200); // let the close handshakes finish
  process.exit(0);
}

main();
