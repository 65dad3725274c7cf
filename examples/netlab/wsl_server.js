// wsl_server.js: the lab's chat server on Node.js with the `ws` package (npm), the same job as
// wsl_server.py: for each connection to /chat/<conn>, push its server-to-client schedule (read
// from the JSON that wsl_schedule.py writes, so the payloads are wsl_msgs' byte for byte), with a
// ping after every 4th message, check the client's messages, and log every event as one JSON
// line in wsl_peer.Log's format. It never starts the closing handshake.
//
// node wsl_server.js --host H --port P --schedule sched.json --log server.jsonl
// (NODE_PATH must reach a node_modules holding ws; run.sh installs it into its work directory.)
'use strict';

const fs = require('fs');
const { WebSocketServer, WebSocket } = require('ws');

function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error('bad argument ' + argv[i]);
    a[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of ['host', 'port', 'schedule', 'log']) if (!(k in a)) throw new Error('missing --' + k);
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

function raw(m) {
  return m.binary ? Buffer.from(m.data, 'base64') : Buffer.from(m.data, 'utf8');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// sendOne sends a frame and resolves when ws has written it (or rejects on failure).
function sendOne(ws, data, opts) {
  return new Promise((resolve, reject) => {
    if (ws.readyState !== WebSocket.OPEN) return reject(new Error('not open: state ' + ws.readyState));
    ws.send(data, opts, (err) => (err ? reject(err) : resolve()));
  });
}

function ping(ws, data) {
  return new Promise((resolve, reject) => {
    if (ws.readyState !== WebSocket.OPEN) return reject(new Error('not open: state ' + ws.readyState));
    ws.ping(data, undefined, (err) => (err ? reject(err) : resolve()));
  });
}

async function sendSchedule(ws, conn, msgs) {
  const idle = sched.idle[String(conn)];
  for (const m of msgs) {
    try {
      // Tripwires go out in one uncompressed frame, so the firewall's string match sees them.
      const compress = sched.compress && !m.tripwire;
      if (m.fragments) {
        for (let i = 0; i < m.fragments.length; i++) {
          await sendOne(ws, m.fragments[i], { binary: false, compress, fin: i === m.fragments.length - 1 });
        }
      } else {
        await sendOne(ws, raw(m), { binary: m.binary, compress, fin: true });
      }
      log('send', { conn, dir: 's2c', idx: m.idx });
      if (m.ping !== null) {
        await ping(ws, Buffer.from(m.ping, 'utf8'));
        log('ping', { conn, dir: 's2c', idx: m.idx });
      }
    } catch (e) {
      log('send_failed', { conn, dir: 's2c', idx: m.idx, error: String(e.message || e) });
      return;
    }
    if (idle && idle[0] === m.idx) {
      log('idle', { conn, dir: 's2c', seconds: idle[1] });
      await sleep(idle[1] * 1000);
    } else {
      await sleep(sched.interval * 1000);
    }
  }
  log('sent_all', { conn, dir: 's2c' });
}

const wss = new WebSocketServer({
  host: args.host,
  port: Number(args.port),
  perMessageDeflate: sched.compress, // ws's defaults: messages under 1024 bytes go uncompressed
  maxPayload: 1 << 20,
});

// The Sec-WebSocket-Extensions response header ws sends, per request, for the open event.
const responseExt = new WeakMap();
wss.on('headers', (headers, req) => {
  const h = headers.find((l) => /^sec-websocket-extensions:/i.test(l));
  responseExt.set(req, h ? h.replace(/^[^:]*:\s*/, '') : '');
});

wss.on('connection', (ws, req) => {
  const m = /\/chat\/(\d+)$/.exec(req.url || '');
  const conn = m ? Number(m[1]) : 0;
  if (!sched.conns[String(conn)]) {
    ws.close(1008, 'bad path');
    return;
  }
  const s = req.socket;
  log('open', {
    conn, key: req.headers['sec-websocket-key'] || null, path: req.url,
    local: `${s.localAddress}:${s.localPort}`, remote: `${s.remoteAddress}:${s.remotePort}`,
    extensions: responseExt.get(req) || '',
    forwarded_for: req.headers['x-forwarded-for'] || '',
  });
  const want = sched.conns[String(conn)].c2s;
  let n = 0;
  ws.on('message', (data, isBinary) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const ok = n < want.length && want[n].binary === isBinary && buf.equals(raw(want[n]));
    log('recv', { conn, dir: 'c2s', idx: n, ok });
    n++;
  });
  ws.on('close', (code, reason) => {
    log('closed', { conn, code, reason: reason.toString('utf8'), received: n });
  });
  ws.on('error', (e) => log('error', { conn, error: String(e.message || e) }));
  sendSchedule(ws, conn, sched.conns[String(conn)].s2c);
});

wss.on('listening', () => log('listening', { port: Number(args.port) }));
process.on('SIGTERM', () => {
  wss.close();
  process.exit(0);
});
