// wsl_h2_client.js: the lab's client speaking WebSocket over HTTP/2 (RFC 8441), as browsers do
// with front ends that advertise SETTINGS_ENABLE_CONNECT_PROTOCOL. One HTTP/2 connection (h2c
// with prior knowledge, or TLS with ALPN h2 when --cafile is given) carries every WebSocket of
// the run as an extended CONNECT stream (:protocol websocket), plus an ordinary GET, so streams
// are multiplexed. Each WebSocket sends its client-to-server schedule (read from the JSON that
// wsl_schedule.py writes, so the payloads are wsl_msgs' byte for byte, a ping after every 4th
// message), checks the server's messages, then closes with 1000 and ends its stream.
// Node's http2 module does the HTTP/2; the RFC 6455 framing on the stream is written here
// (masked client frames: Node has no WebSocket client that runs over a stream). With --deflate on
// it offers permessage-deflate (RFC 7692) with client_no_context_takeover and
// server_no_context_takeover, and when the response accepts it, compresses every whole message
// but the tripwire (which the firewall must match as text) and the fragmented ones, each on its
// own (zlib raw deflate, sync flush, the 00 00 ff ff tail removed, RSV1 set), and inflates the
// server's RSV1 messages the same way.
// Log: JSON lines in wsl_peer.Log's format, with the stream id in "open".
//
// node wsl_h2_client.js --host H --port P --scenario S --conns N --stagger S --deadline S
//   --schedule sched.json --log client.jsonl [--cafile lb.crt --keylog keys.txt --server-name N]
//   [--deflate on]
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http2 = require('http2');
const tls = require('tls');
const zlib = require('zlib');

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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const raw = (m) => (m.binary ? Buffer.from(m.data, 'base64') : Buffer.from(m.data, 'utf8'));

// frame encodes one masked client frame (RFC 6455 section 5.2). zeroKey masks with 00000000, as
// wsl_patch.py does for tripwire messages, so that the firewall's string match sees the text.
function frame(opcode, payload, fin, zeroKey, rsv1) {
  const n = payload.length;
  const b0 = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  let head;
  if (n < 126) {
    head = Buffer.from([b0, 0x80 | n]);
  } else if (n < 65536) {
    head = Buffer.alloc(4);
    head[0] = b0;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(n, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = b0;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  const key = zeroKey ? Buffer.alloc(4) : crypto.randomBytes(4);
  const body = Buffer.alloc(n);
  for (let i = 0; i < n; i++) body[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([head, key, body]);
}

// DEFLATE_TAIL is what a sync flush ends with and RFC 7692 takes off each compressed message.
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

// compress deflates one message on its own (no context takeover), as RFC 7692 section 7.2.1 says.
function compress(payload) {
  const out = zlib.deflateRawSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  if (!out.subarray(out.length - 4).equals(DEFLATE_TAIL)) throw new Error('deflate output without its sync tail');
  return out.subarray(0, out.length - 4);
}

// Reader parses the server's (unmasked) frames from the stream's DATA and calls on(opcode,
// payload) per message or control frame, continuation frames joined, inflating messages whose
// first frame has RSV1 set (permessage-deflate, server_no_context_takeover).
class Reader {
  constructor(on) {
    this.buf = Buffer.alloc(0);
    this.parts = null;
    this.op = 0;
    this.on = on;
  }
  push(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length < 2) return;
      const fin = (this.buf[0] & 0x80) !== 0;
      const op = this.buf[0] & 0x0f;
      this.buf0 = this.buf[0];
      if (this.buf[1] & 0x80) throw new Error('masked frame from the server');
      let n = this.buf[1] & 0x7f;
      let at = 2;
      if (n === 126) {
        if (this.buf.length < 4) return;
        n = this.buf.readUInt16BE(2);
        at = 4;
      } else if (n === 127) {
        if (this.buf.length < 10) return;
        n = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      if (this.buf.length < at + n) return;
      const payload = this.buf.subarray(at, at + n);
      this.buf = this.buf.subarray(at + n);
      if (op >= 8) {
        this.on(op, Buffer.from(payload));
        continue;
      }
      if (op !== 0) {
        this.op = op;
        this.rsv1 = (this.buf0 & 0x40) !== 0;
        this.parts = [];
      }
      this.parts.push(Buffer.from(payload));
      if (fin) {
        let msg = Buffer.concat(this.parts);
        if (this.rsv1) msg = zlib.inflateRawSync(Buffer.concat([msg, DEFLATE_TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
        this.on(this.op, msg);
        this.parts = null;
      }
    }
  }
}

function write(stream, b) {
  return new Promise((resolve, reject) => {
    if (stream.destroyed || stream.writableEnded) return reject(new Error('stream closed'));
    stream.write(b, (err) => (err ? reject(err) : resolve()));
  });
}

async function sendSchedule(ws, conn) {
  for (const m of sched.conns[String(conn)].c2s) {
    try {
      if (m.fragments) {
        for (let i = 0; i < m.fragments.length; i++) {
          await write(ws.stream, frame(i === 0 ? 1 : 0, Buffer.from(m.fragments[i], 'utf8'), i === m.fragments.length - 1));
        }
      } else if (ws.deflate && m.tripwire === null) {
        await write(ws.stream, frame(m.binary ? 2 : 1, compress(raw(m)), true, false, true));
      } else {
        await write(ws.stream, frame(m.binary ? 2 : 1, raw(m), true, m.tripwire !== null));
      }
      log('send', { conn, dir: 'c2s', idx: m.idx });
      if (m.ping !== null) {
        await write(ws.stream, frame(9, Buffer.from(m.ping, 'utf8'), true));
        log('ping', { conn, dir: 'c2s', idx: m.idx });
      }
    } catch (e) {
      log('send_failed', { conn, dir: 'c2s', idx: m.idx, error: String(e.message || e) });
      return;
    }
    await sleep(sched.interval * 1000);
  }
  log('sent_all', { conn, dir: 'c2s' });
}

// one runs WebSocket number conn on the HTTP/2 session.
async function one(session, conn) {
  await sleep(Number(args.stagger) * 1000 * (conn - 1));
  const path = `/chat/${conn}`;
  const stream = session.request({
    ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': args.cafile ? 'https' : 'http',
    ':path': path, ':authority': authority, 'sec-websocket-version': '13',
    'user-agent': 'wspath-netlab', 'x-wsl-conn': String(conn), ...offer,
  });
  let extensions = '';
  const status = await new Promise((resolve) => {
    stream.on('response', (h) => {
      extensions = h['sec-websocket-extensions'] || '';
      resolve(h[':status']);
    });
    stream.on('error', (e) => resolve('error: ' + e.message));
  });
  if (status !== 200) {
    log('connect_failed', { conn, error: String(status) });
    return;
  }
  const want = sched.conns[String(conn)].s2c;
  // Only what was offered is accepted: no context takeover either way.
  const deflate = /^permessage-deflate\b/.test(extensions);
  if (deflate && !(/client_no_context_takeover/.test(extensions) && /server_no_context_takeover/.test(extensions))) {
    log('connect_failed', { conn, error: 'extensions not as offered: ' + extensions });
    stream.close(http2.constants.NGHTTP2_CANCEL);
    return;
  }
  const ws = { stream, closeSent: false, deflate };
  let n = 0;
  let closeCode = null;
  let closeReason = null;
  let doneResolve;
  const done = new Promise((r) => { doneResolve = r; });
  const closed = new Promise((resolve) => {
    const finish = () => {
      log('closed', { conn, code: closeCode, reason: closeReason, received: n });
      doneResolve();
      resolve();
    };
    stream.on('close', finish);
  });
  const reader = new Reader((op, payload) => {
    if (op === 9) {
      write(stream, frame(10, payload, true)).catch(() => {});
    } else if (op === 8) {
      closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : null;
      closeReason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
      if (!ws.closeSent) {
        ws.closeSent = true;
        write(stream, frame(8, payload.subarray(0, 2), true)).catch(() => {});
      }
      stream.end(); // the close handshake is done: END_STREAM (RFC 8441 section 5.3)
    } else if (op === 1 || op === 2) {
      const ok = n < want.length && want[n].binary === (op === 2) && payload.equals(raw(want[n]));
      log('recv', { conn, dir: 's2c', idx: n, ok, sha256: crypto.createHash('sha256').update(payload).digest('hex') });
      n++;
      if (n === want.length) doneResolve();
    }
  });
  stream.on('data', (chunk) => reader.push(chunk));
  stream.on('error', () => {});
  const s = session.socket;
  log('open', { conn, key: null, path, stream: stream.id, local: `${s.localAddress}:${s.localPort}`,
    remote: `${s.remoteAddress}:${s.remotePort}`, extensions });
  await sendSchedule(ws, conn);
  const timer = sleep(Number(args.deadline) * 1000).then(() => 'deadline');
  if ((await Promise.race([done.then(() => 'done'), timer])) === 'deadline') log('deadline', { conn });
  log('close_start', { conn });
  if (!ws.closeSent) {
    ws.closeSent = true;
    const body = Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('done', 'utf8')]);
    await write(stream, frame(8, body, true)).catch(() => {});
  }
  // Wait for the server's close frame (or the stream's end), as a WebSocket client does.
  await Promise.race([closed, sleep(2000)]);
  if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
  await closed;
}

const authority = `${args['server-name'] || args.host}:${args.port}`;
const offer = args.deflate === 'on'
  ? { 'sec-websocket-extensions': 'permessage-deflate; client_no_context_takeover; server_no_context_takeover' } : {};

async function main() {
  const opts = {};
  if (args.cafile) {
    opts.createConnection = () => {
      const sock = tls.connect({ host: args.host, port: Number(args.port), servername: args['server-name'] || 'chat.netlab.test',
        ca: fs.readFileSync(args.cafile), ALPNProtocols: ['h2'] });
      if (args.keylog) sock.on('keylog', (line) => fs.appendFileSync(args.keylog, line));
      return sock;
    };
  }
  const url = `${args.cafile ? 'https' : 'http'}://${args.host}:${args.port}`;
  const session = http2.connect(url, opts);
  session.on('error', (e) => log('session_error', { error: String(e.message || e) }));
  await new Promise((resolve, reject) => {
    session.once('remoteSettings', resolve);
    session.once('error', reject);
  });
  if (!session.remoteSettings.enableConnectProtocol) throw new Error('the server does not allow extended CONNECT');
  if (session.socket.alpnProtocol) log('tls', { version: session.socket.getProtocol(), cipher: session.socket.getCipher().standardName, alpn: session.socket.alpnProtocol });
  // An ordinary request on the same connection, between the WebSockets' streams.
  const get = session.request({ ':method': 'GET', ':path': '/index.html' });
  get.on('response', (h) => log('http_response', { path: '/index.html', status: h[':status'], stream: get.id }));
  get.on('error', () => {});
  get.resume();
  const conns = [];
  for (let c = 1; c <= Number(args.conns); c++) conns.push(one(session, c));
  await Promise.all(conns);
  session.close();
}

main().catch((e) => {
  log('fatal', { error: String(e.stack || e) });
  process.exitCode = 1;
});
