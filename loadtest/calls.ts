// How many concurrent 1:1 audio calls does ONE mediasoup worker carry on this machine?
//
// One process: a mediasoup worker (a child process, its own CPU) created directly, a router per
// call (opus, as CallSession does), and per call two msc-node (werift) Devices: a sender with one
// audio producer and a receiver with one consumer, each over its own WebRtcTransport on 127.0.0.1.
// Every sender writes a synthetic opus RTP packet every 20 ms (as test/helpers/media-peer.ts does).
// The number of calls is stepped up; each step measures, over a fixed window, the packets the
// clients wrote vs the packets the receivers got (loss), what the SFU saw in between (producer
// packets in, consumer packets out), the worker's CPU (getResourceUsage deltas) and this client
// process's CPU. Stepping stops at > 2% loss, the worker at ~90% of a core, a saturated client
// (CPU ~ a full core, or it cannot keep the 50 packets/s per sender), or the time budget.
//
//   npm run bench:calls [-- --steps 5,10,20,40,80 --window 8 --budget 100]
//
// Caveat built into the design: the werift clients are pure JavaScript (SRTP, ICE, DTLS, RTP in
// JS) on the same 2 cores as the worker, so the client side normally saturates long before the
// worker does; what is measured is then a lower bound for the worker.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadMediasoup } from '../src/media/sfu-types.js';
import type * as types from '../src/media/sfu-types.js';
import { Device, MediaStreamTrack, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'msc-node';
import { fmt, runInfo, runInfoMarkdown, table, timestamp, writeResults } from './lib/results.js';

const { values: opts } = parseArgs({
  options: {
    steps: { type: 'string', default: '10,20,40,80,120,160,200,240' },
    window: { type: 'string', default: '8' },
    budget: { type: 'string', default: '100' },
    'max-loss': { type: 'string', default: '2' },
  },
});
const STEPS = opts.steps
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const WINDOW_S = Number(opts.window);
const BUDGET_S = Number(opts.budget);
const MAX_LOSS_PCT = Number(opts['max-loss']);
const PACKET_MS = 20;
const NOMINAL_PPS = 1000 / PACKET_MS;
const SETUP_CONCURRENCY = 4;
const RULE_OF_THUMB_CONSUMERS = 500;

const MEDIA_CODECS: types.RouterRtpCodecCapability[] = [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }];

const newDevice = () =>
  new Device({
    codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })], video: [] },
  });

interface Call {
  router: types.Router;
  producer: types.Producer;
  consumer: types.Consumer;
  track: MediaStreamTrack;
  seq: number;
  ts: number;
  sent: number;
  received: number;
  /** Both server-side transports reached DTLS 'connected' within the setup timeout. */
  connected: boolean;
  states: () => string;
  close: () => void;
}

const t0 = performance.now();
const elapsedS = () => (performance.now() - t0) / 1000;

const loaded = await loadMediasoup();
if ('missing' in loaded) {
  console.error(`mediasoup is not installed (${loaded.missing}): see docs/operations.md#calls`);
  process.exit(2);
}
const { mediasoup } = loaded;
const worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 44000, rtcMaxPort: 44999 });
worker.on('died', (err) => {
  console.error('mediasoup worker died', err);
  process.exit(1);
});

const params = (t: types.WebRtcTransport) => ({
  id: t.id,
  iceParameters: t.iceParameters as never,
  iceCandidates: t.iceCandidates as never,
  dtlsParameters: t.dtlsParameters as never,
});

const CONNECT_TIMEOUT_MS = 8000;
/** Resolves true once the transport's DTLS is connected, false on failure or timeout. */
function dtlsConnected(t: types.WebRtcTransport): Promise<boolean> {
  if (t.dtlsState === 'connected') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), CONNECT_TIMEOUT_MS);
    t.on('dtlsstatechange', (state) => {
      if (state === 'connected' || state === 'failed' || state === 'closed') {
        clearTimeout(timer);
        resolve(state === 'connected');
      }
    });
  });
}

async function openCall(): Promise<Call> {
  const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  const mk = () =>
    router.createWebRtcTransport({
      listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }],
      initialAvailableOutgoingBitrate: 600_000,
    });
  const [sSend, sRecv] = await Promise.all([mk(), mk()]);

  const sender = newDevice();
  const receiver = newDevice();
  await sender.load({ routerRtpCapabilities: router.rtpCapabilities as never });
  await receiver.load({ routerRtpCapabilities: router.rtpCapabilities as never });

  let producer: types.Producer | undefined;
  const cSend = sender.createSendTransport(params(sSend));
  cSend.on('connect', ({ dtlsParameters }: { dtlsParameters: object }, cb: () => void, eb: (e: Error) => void) => {
    sSend.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }).then(cb, eb);
  });
  cSend.on(
    'produce',
    (
      { kind, rtpParameters }: { kind: string; rtpParameters: object },
      cb: (r: { id: string }) => void,
      eb: (e: Error) => void,
    ) => {
      sSend.produce({ kind: kind as types.MediaKind, rtpParameters: rtpParameters as types.RtpParameters }).then((p) => {
        producer = p;
        cb({ id: p.id });
      }, eb);
    },
  );
  const cRecv = receiver.createRecvTransport(params(sRecv));
  cRecv.on('connect', ({ dtlsParameters }: { dtlsParameters: object }, cb: () => void, eb: (e: Error) => void) => {
    sRecv.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }).then(cb, eb);
  });

  const track = new MediaStreamTrack({ kind: 'audio' });
  await cSend.produce({ track });
  if (!producer) throw new Error('no server producer');
  // As the hub does: the consumer starts paused and is resumed once the client is ready.
  const consumer = await sRecv.consume({
    producerId: producer.id,
    rtpCapabilities: receiver.rtpCapabilities as never,
    paused: true,
  });
  const cc = await cRecv.consume({
    id: consumer.id,
    producerId: consumer.producerId,
    kind: consumer.kind,
    rtpParameters: consumer.rtpParameters as never,
  });
  await consumer.resume();
  const connected = await Promise.all([dtlsConnected(sSend), dtlsConnected(sRecv)]).then((r) => r.every(Boolean));

  const call: Call = {
    router,
    producer,
    consumer,
    track,
    seq: 0,
    ts: 0,
    sent: 0,
    received: 0,
    connected,
    states: () => `send ${sSend.iceState}/${sSend.dtlsState}, recv ${sRecv.iceState}/${sRecv.dtlsState}`,
    close: () => {
      cSend.close();
      cRecv.close();
      router.close();
    },
  };
  cc.track.onReceiveRtp.subscribe(() => call.received++);
  return call;
}

// ICE_CONSENT_NOTE: werift (msc-node 0.0.21 / werift 0.18.17) sends no ICE consent checks to an
// ICE-lite remote such as mediasoup (ice.js: `while (!this.remoteIsLite ...)`), and mediasoup
// 3.19 drops a WebRtcTransport's ICE to 'disconnected' ~30 s after the last STUN request and stops
// taking its RTP. So a werift peer's media dies ~30 s after connecting; each step therefore opens
// fresh calls and finishes measuring well within those 30 s.
const ICE_CONSENT_NOTE =
  'werift (msc-node 0.0.21) sends no ICE consent checks to ICE-lite mediasoup, which marks the transport ICE-disconnected ~30 s after connecting and stops forwarding its RTP; ' +
  'so every step opens fresh calls and measures within those 30 s (a longer-lived bench, or a werift-based watch client, would need periodic STUN binding requests).';
const calls: Call[] = [];
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);
// One timer feeds every sender: a late tick (a busy client) shows up as fewer packets sent.
const feeder = setInterval(() => {
  for (const c of calls) {
    c.seq = (c.seq + 1) & 0xffff;
    c.ts = (c.ts + 960) >>> 0;
    c.track.writeRtp(
      new RtpPacket(
        new RtpHeader({ payloadType: 100, sequenceNumber: c.seq, timestamp: c.ts, ssrc: 1111, marker: false }),
        OPUS_SILENCE,
      ),
    );
    c.sent++;
  }
}, PACKET_MS);

async function workerCpuMs(): Promise<number> {
  const u = await worker.getResourceUsage();
  return u.ru_utime + u.ru_stime;
}
const clientCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
async function serverPackets(): Promise<{ producerIn: number; consumerOut: number; perCallIn: Map<Call, number> }> {
  let producerIn = 0;
  let consumerOut = 0;
  const perCallIn = new Map<Call, number>();
  const list = [...calls];
  await Promise.all(
    list.map(async (c) => {
      const [ps, cs] = await Promise.all([c.producer.getStats(), c.consumer.getStats()]);
      const n = ps[0]?.packetCount ?? 0;
      perCallIn.set(c, n);
      producerIn += n;
      // Consumer stats hold the consumer's outbound-rtp and the producer's inbound-rtp.
      consumerOut += cs.find((s) => s.type === 'outbound-rtp')?.packetCount ?? 0;
    }),
  );
  return { producerIn, consumerOut, perCallIn };
}

interface Step {
  calls: number;
  consumers: number;
  setupS: number;
  windowS: number;
  sent: number;
  sfuIn: number;
  sfuOut: number;
  received: number;
  lossPct: number;
  uplinkLossPct: number;
  downlinkLossPct: number;
  sendRatePct: number;
  workerCpuPct: number;
  clientCpuPct: number;
  loopDelayP99Ms: number;
  workerCpuMsPerConsumerS: number;
  /** Calls whose transports did not both reach DTLS 'connected' within the setup timeout. */
  notConnected: number;
  /** Calls of which the SFU received no packet at all during the window. */
  deadUplink: number;
  /** Loss over the calls that did carry media (dead calls excluded). */
  liveLossPct: number;
  deadStates: string[];
  stopReason?: string;
}
const steps: Step[] = [];
let stopReason = 'all steps done';
let failure: string | undefined;

try {
  for (const target of STEPS) {
    // Every step opens fresh calls (see ICE_CONSENT_NOTE): close the previous step's.
    for (const c of calls.splice(0)) c.close();
    // Will this step fit in the budget? Estimate setup from the last step's rate.
    const last = steps[steps.length - 1];
    const perCallS = last ? last.setupS / last.calls : 0.3;
    const estimate = target * perCallS + WINDOW_S + 3;
    if (target * perCallS + 1.5 + WINDOW_S > 28) {
      stopReason = `the ${target}-call step would not finish within the ~30 s a werift transport lives on mediasoup (see the ICE consent note)`;
      break;
    }
    if (elapsedS() + estimate > BUDGET_S) {
      stopReason = `time budget (${BUDGET_S} s): the ${target}-call step would need ~${fmt(estimate, 0)} s more`;
      break;
    }
    const setupStart = performance.now();
    while (calls.length < target) {
      if (elapsedS() > BUDGET_S + 5)
        throw new Error(`time budget exceeded while opening the ${target}-call step (at ${calls.length} calls)`);
      const batch = Math.min(SETUP_CONCURRENCY, target - calls.length);
      const opened = await Promise.all(Array.from({ length: batch }, () => openCall()));
      calls.push(...opened);
    }
    const setupS = (performance.now() - setupStart) / 1000;
    await new Promise((r) => setTimeout(r, 1500)); // let ICE/DTLS settle and the first packets flow

    const loop = monitorEventLoopDelay({ resolution: 10 });
    const c0Sent = new Map(calls.map((c) => [c, c.sent]));
    const c0Recv = new Map(calls.map((c) => [c, c.received]));
    const sent0 = calls.reduce((a, c) => a + c.sent, 0);
    const recv0 = calls.reduce((a, c) => a + c.received, 0);
    const sfu0 = await serverPackets();
    const w0 = await workerCpuMs();
    const c0 = clientCpuMs();
    const at0 = performance.now();
    loop.enable();
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    loop.disable();
    const sent1 = calls.reduce((a, c) => a + c.sent, 0);
    const recv1 = calls.reduce((a, c) => a + c.received, 0);
    const c1Sent = new Map(calls.map((c) => [c, c.sent]));
    const c1Recv = new Map(calls.map((c) => [c, c.received]));
    const at1 = performance.now();
    const w1 = await workerCpuMs();
    const c1 = clientCpuMs();
    const sfu1 = await serverPackets();

    const windowS = (at1 - at0) / 1000;
    const dead = calls.filter((c) => (sfu1.perCallIn.get(c) ?? 0) - (sfu0.perCallIn.get(c) ?? 0) === 0);
    const live = calls.filter((c) => !dead.includes(c));
    const liveSent = live.reduce((a, c) => a + (c1Sent.get(c) ?? 0) - (c0Sent.get(c) ?? 0), 0);
    const liveRecv = live.reduce((a, c) => a + (c1Recv.get(c) ?? 0) - (c0Recv.get(c) ?? 0), 0);
    const sent = sent1 - sent0;
    const received = recv1 - recv0;
    const sfuIn = sfu1.producerIn - sfu0.producerIn;
    const sfuOut = sfu1.consumerOut - sfu0.consumerOut;
    const pct = (lost: number, of: number) => (of > 0 ? Math.max(0, (100 * lost) / of) : 0);
    const step: Step = {
      calls: calls.length,
      consumers: calls.length,
      setupS,
      windowS,
      sent,
      sfuIn,
      sfuOut,
      received,
      lossPct: pct(sent - received, sent),
      uplinkLossPct: pct(sent - sfuIn, sent),
      downlinkLossPct: pct(sfuOut - received, sfuOut),
      sendRatePct: (100 * sent) / (calls.length * NOMINAL_PPS * windowS),
      workerCpuPct: (100 * (w1 - w0)) / (at1 - at0),
      clientCpuPct: (100 * (c1 - c0)) / (at1 - at0),
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      workerCpuMsPerConsumerS: (w1 - w0) / windowS / calls.length,
      notConnected: calls.filter((c) => !c.connected).length,
      deadUplink: dead.length,
      liveLossPct: pct(liveSent - liveRecv, liveSent),
      deadStates: dead.slice(0, 5).map((c) => c.states()),
    };
    steps.push(step);
    console.log(
      `${step.calls} calls: sent ${sent}, received ${received} (loss ${fmt(step.lossPct, 2)}%), send rate ${fmt(step.sendRatePct)}% of nominal, ` +
        `dead calls ${dead.length} (not connected at setup ${step.notConnected}; e.g. ${step.deadStates.join(' | ') || '-'}), live-call loss ${fmt(step.liveLossPct, 2)}%, ` +
        `worker CPU ${fmt(step.workerCpuPct)}%, client CPU ${fmt(step.clientCpuPct)}%, loop p99 ${fmt(step.loopDelayP99Ms)} ms, setup ${fmt(setupS)} s`,
    );

    const reasons: string[] = [];
    if (step.lossPct > MAX_LOSS_PCT) reasons.push(`loss ${fmt(step.lossPct, 2)}% > ${MAX_LOSS_PCT}%`);
    if (step.workerCpuPct >= 90) reasons.push(`worker CPU ${fmt(step.workerCpuPct)}% ≥ 90% of a core`);
    if (step.clientCpuPct >= 90) reasons.push(`client CPU ${fmt(step.clientCpuPct)}% ≥ 90% of a core (werift clients saturate)`);
    if (step.sendRatePct < 95)
      reasons.push(`client sends only ${fmt(step.sendRatePct)}% of the nominal 50 packets/s per call (saturated)`);
    if (reasons.length) {
      step.stopReason = reasons.join('; ');
      stopReason = step.stopReason;
      break;
    }
  }
} catch (err) {
  failure = (err as Error).stack ?? String(err);
  stopReason = `error while opening calls: ${(err as Error).message}`;
  console.error(failure);
}

clearInterval(feeder);
for (const c of calls) c.close();
worker.close();

// ---- results ----
const info = runInfo();
const ts = timestamp();
const clean = steps.filter((s) => s.deadUplink === 0 && s.lossPct <= MAX_LOSS_PCT && s.sendRatePct >= 95);
const best = clean[clean.length - 1];
// The clients are the limit when they hit a saturation sign, fail to set calls up in time, or
// burn far more CPU than the worker for the same media.
const clientLimited = steps.some(
  (s) =>
    s.clientCpuPct >= 70 ||
    s.sendRatePct < 95 ||
    s.loopDelayP99Ms > 50 ||
    s.notConnected > 0 ||
    s.clientCpuPct > 3 * s.workerCpuPct,
);
const top = steps[steps.length - 1];
// Extrapolate the worker's own ceiling from its measured cost per consumer (CPU-linear model).
const perConsumer = best ? best.workerCpuPct / best.consumers : top ? top.workerCpuPct / top.consumers : NaN;
const workerCeilingConsumers = Number.isFinite(perConsumer) && perConsumer > 0 ? Math.floor(90 / perConsumer) : NaN;

const ruleLine = best
  ? `Consumers carried without loss: **${best.consumers}** (${best.calls} calls), against mediasoup's rule of thumb of ~${RULE_OF_THUMB_CONSUMERS} consumers per worker ` +
    `(${fmt((100 * best.consumers) / RULE_OF_THUMB_CONSUMERS, 0)}% of it). ` +
    (best.consumers < RULE_OF_THUMB_CONSUMERS
      ? `It is lower here because the ${clientLimited ? "limit reached was the clients (and the bench's ~30 s per-step window), not the worker" : 'run stopped before the worker was loaded'}: ` +
        `the client process used ${fmt(best.clientCpuPct)}% of a core against the worker's ${fmt(best.workerCpuPct)}% (${fmt(best.clientCpuPct / Math.max(0.1, best.workerCpuPct))}× as much) for the same packets; ` +
        `all ${best.calls * 2} werift peers (pure-JS ICE/DTLS/SRTP/RTP) run in this one Node process on the same 2 noisy cores as the worker, ` +
        `while the worker itself used only ${fmt(best.workerCpuPct)}% of a core at that point ` +
        `(~${fmt(perConsumer, 2)}% of a core per audio consumer, i.e. ~${Number.isFinite(workerCeilingConsumers) ? workerCeilingConsumers : '?'} consumers at 90% if it scaled linearly). ` +
        `The rule of thumb assumes a mix of audio and video at typical browser bitrates; these 50 packets/s opus-silence consumers are cheaper per packet, ` +
        `but the worker's fixed costs (a router, two transports, ICE/DTLS/SRTP and RTCP per call, since each 1:1 call has only ONE consumer) are spread over a single consumer. ` +
        (Number.isFinite(workerCeilingConsumers)
          ? `The linear extrapolation (${workerCeilingConsumers} consumers) is ${workerCeilingConsumers >= RULE_OF_THUMB_CONSUMERS ? 'above' : 'below'} the rule of thumb, ` +
            `but it comes from a lightly loaded worker on a noisy machine, so treat it as an order of magnitude, not a measured capacity.`
          : '')
      : `It is higher than the rule of thumb because these are tiny audio-only streams (3-byte opus silence, 50 packets/s), far cheaper than the video-heavy load the rule assumes.`)
  : 'No step ran without loss.';

const rows = steps.map((s) => [
  s.calls,
  s.consumers,
  s.sent,
  s.sfuIn,
  s.sfuOut,
  s.received,
  fmt(s.lossPct, 2),
  `${fmt(s.uplinkLossPct, 2)} / ${fmt(s.downlinkLossPct, 2)}`,
  fmt(s.sendRatePct),
  fmt(s.workerCpuPct),
  fmt(s.clientCpuPct),
  fmt(s.loopDelayP99Ms),
  `${s.notConnected} / ${s.deadUplink}`,
  fmt(s.liveLossPct, 2),
  fmt(s.setupS),
]);

const md = [
  '# Calls: concurrent 1:1 audio calls on one mediasoup worker',
  '',
  runInfoMarkdown(info, [`· mediasoup ${mediasoup.version}, one worker, ports 44000-44999`]),
  '',
  `Per call: a router (opus), two WebRtcTransports on 127.0.0.1/UDP, one producer and one consumer; ` +
    `two msc-node (werift) Devices in this same process, the sender writing a synthetic opus packet every ${PACKET_MS} ms. ` +
    `Each step closes the previous step's calls and opens fresh ones (${SETUP_CONCURRENCY} at a time, each waited for until both transports are DTLS-connected, ${CONNECT_TIMEOUT_MS / 1000} s timeout), waits 1.5 s, then measures a ${WINDOW_S} s window. ` +
    `Loss = 1 − received/sent over the window, all calls (uplink: client→SFU producer; downlink: SFU consumer→client). ` +
    `Worker CPU = Δ(ru_utime+ru_stime)/wall from worker.getResourceUsage(); client CPU = Δprocess.cpuUsage()/wall of the Node process holding all werift peers (100% = one core).`,
  '',
  table(
    [
      'calls',
      'consumers',
      'pkts sent',
      'SFU in',
      'SFU out',
      'received',
      'loss %',
      'uplink / downlink loss %',
      'send rate % of nominal',
      'worker CPU %',
      'client CPU %',
      'loop p99 ms',
      'not connected / dead calls',
      'live-call loss %',
      'setup s',
    ],
    rows,
  ),
  '',
  `**Max calls without loss (≤ ${MAX_LOSS_PCT}%, client keeping ≥ 95% of the nominal rate): ${best ? `${best.calls} calls (${best.consumers} consumers)` : 'none'}.** ` +
    `Stopped: ${stopReason}.`,
  '',
  ruleLine,
  '',
  '## Caveats',
  '',
  `- The bottleneck here is ${clientLimited ? 'the werift clients' : 'not clearly the clients'}: every sender and receiver is a JavaScript WebRTC stack in one Node process ` +
    `(one event loop ≈ one core), competing with the worker for the same 2 cores. The measured count is a lower bound for the worker, not its capacity.`,
  '- Traffic is loopback-only (no real network loss, jitter, or NIC interrupts); payloads are 3-byte opus silence frames, not real 20–40 kbit/s opus.',
  '- Audio only, one consumer per producer: no video, no simulcast, no bandwidth estimation pressure. The hub also creates a TCP listen socket per transport (not here).',
  `- ${ICE_CONSENT_NOTE}`,
  '- The machine is shared and noisy: numbers vary run to run; the step windows are short (~8 s).',
  ...(failure ? ['', '## Error', '', '```', failure, '```'] : []),
  '',
].join('\n');

const json = {
  info,
  mediasoupVersion: mediasoup.version,
  config: {
    steps: STEPS,
    windowS: WINDOW_S,
    budgetS: BUDGET_S,
    maxLossPct: MAX_LOSS_PCT,
    packetMs: PACKET_MS,
    setupConcurrency: SETUP_CONCURRENCY,
  },
  steps,
  maxCallsWithoutLoss: best?.calls ?? 0,
  maxConsumersWithoutLoss: best?.consumers ?? 0,
  ruleOfThumbConsumers: RULE_OF_THUMB_CONSUMERS,
  workerCpuPctPerConsumer: perConsumer,
  extrapolatedWorkerConsumersAt90Pct: workerCeilingConsumers,
  clientLimited,
  stopReason,
  failure: failure ?? null,
  totalS: elapsedS(),
};
const paths = writeResults('calls', ts, json, md);
console.log(`\n${ruleLine}\nStopped: ${stopReason}\nwrote ${paths.join(', ')}`);
process.exit(failure ? 1 : 0);
