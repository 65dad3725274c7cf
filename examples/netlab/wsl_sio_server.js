// wsl_sio_server.js: the lab's chat server as a socket.io 4 application (npm socket.io, which
// speaks engine.io over ws). For each connection (handshake query conn=<n>) it emits its
// server-to-client schedule as "chat" events (read from the JSON wsl_schedule.py writes, so the
// payloads are wsl_msgs' byte for byte), checks the client's "chat" events against the
// client-to-server schedule, and logs every event as one JSON line in wsl_peer.Log's format.
// WebSocket transport only; engine.io pings every --ping-interval ms (its "2"/"3" text
// messages are WebSocket data messages on the wire). It never starts the close.
//
// node wsl_sio_server.js --host H --port P --schedule sched.json --log server.jsonl --ping-interval MS
// (NODE_PATH must reach a node_modules holding socket.io; run.sh installs it into its work directory.)
'use strict';

const fs = require('fs');
const http = require('http');
const { Server } = require('socket.io');

function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error('bad argument ' + argv[i]);
    a[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of ['host', 'port', 'schedule', 'log', 'ping-interval']) if (!(k in a)) throw new Error('missing --' + k);
  return a;
}

const args = parseArgs(process.argv.slice(2));
const sched = JSON.parse(fs.readFileSync(args.schedule, 'utf8'));
const logFd = fs.openSync(args.log, 'a');

// log writes one JSON line synchronously, so a killed process loses nothing.
function log(ev, kw) {
  const o = Object.assign({}, kw, { ev, side: 'server', t: Math.round(Date.now() * 1000) / 1e6 });
  const sorted = {};
  for (const k of Object.keys(o).sort()) sorted[k] = o[k];
  fs.writeSync(logFd, JSON.stringify(sorted) + '\n');
}

// payload is what socket.io sends for a scheduled message: a string for text, a Buffer for binary
// (which socket.io sends as a text packet with a placeholder, then the bytes as a binary message).
function payload(m) {
  return m.binary ? Buffer.from(m.data, 'base64') : m.data;
}

function same(got, m) {
  if (m.binary) return Buffer.isBuffer(got) && got.equals(Buffer.from(m.data, 'base64'));
  return got === m.data;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function sendSchedule(socket, conn, msgs) {
  for (const m of msgs) {
    if (!socket.connected) {
      log('send_failed', { conn, dir: 's2c', idx: m.idx, error: 'disconnected' });
      return;
    }
    socket.emit('chat', payload(m));
    log('send', { conn, dir: 's2c', idx: m.idx });
    await sleep(sched.interval * 1000);
  }
  log('sent_all', { conn, dir: 's2c' });
}

const httpServer = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const io = new Server(httpServer, {
  transports: ['websocket'],
  pingInterval: Number(args['ping-interval']),
  pingTimeout: 5000,
  perMessageDeflate: false, // engine.io's default
  maxHttpBufferSize: 1 << 20,
});

io.on('connection', (socket) => {
  const conn = Number(socket.handshake.query.conn || 0);
  if (!sched.conns[String(conn)]) {
    socket.disconnect(true);
    return;
  }
  const s = socket.request.socket;
  log('open', {
    conn, key: socket.handshake.headers['sec-websocket-key'] || null, path: socket.request.url,
    local: `${s.localAddress}:${s.localPort}`, remote: `${s.remoteAddress}:${s.remotePort}`,
    extensions: '', forwarded_for: socket.handshake.headers['x-forwarded-for'] || '',
    sid: socket.id, engine_sid: socket.conn.id,
  });
  const want = sched.conns[String(conn)].c2s;
  let n = 0;
  socket.on('chat', (data) => {
    log('recv', { conn, dir: 'c2s', idx: n, ok: n < want.length && same(data, want[n]) });
    n++;
  });
  socket.conn.on('packet', (p) => {
    if (p.type === 'pong') log('pong', { conn, dir: 'c2s' });
  });
  socket.conn.on('packetCreate', (p) => {
    if (p.type === 'ping') log('ping', { conn, dir: 's2c', idx: null });
  });
  socket.on('disconnect', (reason) => log('closed', { conn, code: null, reason, received: n }));
  sendSchedule(socket, conn, sched.conns[String(conn)].s2c);
});

httpServer.listen(Number(args.port), args.host, () => log('listening', { port: Number(args.port) }));
process.on('SIGTERM', () => {
  io.close();
  process.exit(0);
});
