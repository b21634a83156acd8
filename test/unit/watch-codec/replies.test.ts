import { describe, expect, it } from 'vitest';
import {
  commandTypeForEcho,
  decodeFrame,
  echoContentFor,
  echoKeyOf,
  encodeDownlink,
  replyContentFor,
  replyFor,
  VoiceAssembler,
  type Downlink,
} from '../../../src/watch/codec/index.js';
import { frame } from './helpers.js';

const sg = { maker: 'SG', id: '8800000015', index: null };
const zj = { maker: 'ZJ', id: '789468050042692', index: '0034' };

describe('replies', () => {
  it('answers INIT, LK, alarms, TKQ, TKQ2 and JXTK, echoing MF, ID and INDEX', () => {
    expect(replyFor(sg, 'INIT')?.toString()).toBe('[SG*8800000015*0006*INIT,1]');
    expect(replyFor(sg, 'LK')?.toString()).toBe('[SG*8800000015*0002*LK]');
    expect(replyFor(sg, 'AL')?.toString()).toBe('[SG*8800000015*0002*AL]');
    expect(replyFor(sg, 'AL_LTE')?.toString()).toBe('[SG*8800000015*0002*AL]');
    expect(replyFor(sg, 'ALCUSTOMER1')?.toString()).toBe('[SG*8800000015*0002*AL]');
    expect(replyFor(sg, 'TKQ')?.toString()).toBe('[SG*8800000015*0003*TKQ]');
    expect(replyFor(sg, 'TKQ2')?.toString()).toBe('[SG*8800000015*0004*TKQ2]');
    expect(replyFor(zj, 'JXTK')?.toString()).toBe('[ZJ*789468050042692*0034*0007*JXTKR,1]');
  });

  it('answers nothing else', () => {
    for (const t of ['UD', 'UD2', 'UD_LTE', 'WT', 'TK', 'img', 'heart', 'CR', 'PHB2', 'WG'])
      expect(replyContentFor(t), t).toBeNull();
  });

  it('replies to a frame whose fields were bad, from the header in the error', () => {
    const r = decodeFrame(frame('AL,garbage', { maker: 'CS', id: '1234567890', index: '00A1' }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(replyFor(r.error.header!, r.error.type!)?.toString()).toBe('[CS*1234567890*00A1*0002*AL]');
  });
});

describe('echo matching', () => {
  it('maps every echo type to the command it acknowledges', () => {
    const cases: [string, string | null][] = [
      ['CR', 'locate'],
      ['FIND', 'find'],
      ['RCAPTURE', 'photo'],
      ['rcapture', 'photo'],
      ['POWEROFF', 'power_off'],
      ['UPLOAD', 'set_interval'],
      ['SOS', 'set_sos_numbers'],
      ['SOS3', 'set_sos_numbers'],
      ['PHB', 'set_contacts'],
      ['PHB10', 'set_contacts'],
      ['SILENCETIME', 'set_quiet_hours'],
      ['SILENCETIME2', 'set_quiet_hours'],
      ['TK', 'voice_reminder'],
      ['MESSAGE', null],
      ['LZ', null],
      ['SOSSMS', null],
      ['LK', null],
    ];
    for (const [t, c] of cases) expect(commandTypeForEcho(t), t).toBe(c);
  });

  it('gives each downlink an answer key equal to the key of the echo a watch sends back', () => {
    const downlinks: Downlink[] = [
      { type: 'locate' },
      { type: 'photo' },
      { type: 'set_contacts', params: { contacts: Array.from({ length: 7 }, (_, i) => ({ name: `n${i}`, phone: `1000${i}` })) } },
      { type: 'set_sos_numbers', params: { numbers: ['123'] } },
    ];
    for (const d of downlinks) {
      const r = encodeDownlink(sg, d, { sosStyle: 'slots' });
      if (!r.ok) throw new Error(r.error.message);
      for (const f of r.frames) {
        const sentType = f.bytes.toString('latin1').split('*')[3]!.split(/[,\]]/)[0]!;
        const echo = decodeFrame(frame(echoContentFor(sentType)));
        expect(echo.ok && echo.frame.kind === 'echo' && echoKeyOf(echo.frame.type)).toBe(f.answer);
      }
    }
  });

  it('has a watch answer a voice message with TK,1', () => {
    expect(echoContentFor('TK')).toBe('TK,1');
    expect(echoContentFor('rcapture')).toBe('RCAPTURE');
  });
});

describe('JXTK reassembly', () => {
  const chunk = (index: number, total: number, data: string, session = 's1') => ({
    session,
    index,
    total,
    audio: Buffer.from(data),
  });

  it('joins chunks 1…total in order', () => {
    const a = new VoiceAssembler();
    expect(a.add(chunk(1, 3, '#!AMR\nab'))).toEqual({ status: 'partial', received: 1, total: 3 });
    expect(a.add(chunk(2, 3, 'cd'))).toEqual({ status: 'partial', received: 2, total: 3 });
    expect(a.bufferedBytes).toBe(10);
    expect(a.add(chunk(3, 3, 'ef'))).toEqual({ status: 'complete', session: 's1', audio: Buffer.from('#!AMR\nabcdef') });
    expect(a.bufferedBytes).toBe(0);
  });

  it('ignores a chunk sent again after a lost ack', () => {
    const a = new VoiceAssembler();
    a.add(chunk(1, 2, 'x'));
    expect(a.add(chunk(1, 2, 'x', 's1')).status).toBe('partial'); // a first chunk restarts the recording
    expect(a.add(chunk(2, 2, 'y'))).toMatchObject({ status: 'complete', audio: Buffer.from('xy') });
    a.add(chunk(1, 3, 'p', 's2'));
    a.add(chunk(2, 3, 'q', 's2'));
    expect(a.add(chunk(2, 3, 'q', 's2'))).toEqual({ status: 'duplicate' });
    expect(a.add(chunk(3, 3, 'r', 's2'))).toMatchObject({ status: 'complete', audio: Buffer.from('pqr') });
  });

  it('drops a recording with a gap, a changed total, a foreign session or too many bytes', () => {
    const a = new VoiceAssembler(10);
    a.add(chunk(1, 3, 'a'));
    expect(a.add(chunk(3, 3, 'c')).status).toBe('dropped');
    expect(a.add(chunk(2, 3, 'b')).status).toBe('dropped'); // nothing in progress any more
    a.add(chunk(1, 3, 'a'));
    expect(a.add(chunk(2, 4, 'b')).status).toBe('dropped');
    a.add(chunk(1, 3, 'a'));
    expect(a.add(chunk(2, 3, 'b', 'other')).status).toBe('dropped');
    a.add(chunk(1, 3, '12345678'));
    expect(a.add(chunk(2, 3, '9ab')).status).toBe('dropped');
    expect(a.bufferedBytes).toBe(0);
  });
});
