// The 3G watch protocol codec: pure functions and small state machines, no I/O. The TCP gateway
// feeds socket reads to a FrameSplitter, decodes each frame, writes replyFor(...) when one is due,
// and encodes downlinks with encodeDownlink. docs/watch-protocol.md describes the wire.
export { FrameSplitter, DEFAULT_MAX_FRAME_BYTES, type SplitterOptions, type SplitterStats } from './splitter.js';
export { escapeBinary, unescapeBinary } from './escape.js';
export { parseFrame, buildFrame, type ParsedFrame, type ParseResult } from './header.js';
export { decodeFrame } from './decode.js';
export { statusFlags, parseNetwork, parseWifi, radioOf } from './decode-position.js';
export { decodeDownlink } from './decode-downlink.js';
export { replyContentFor, replyFor, echoKeyOf, isEchoType, commandTypeForEcho, echoContentFor } from './replies.js';
export { encodeDownlink, normalizePhone, formatHours, MAX_SOS_NUMBERS, CONTACTS_PER_FRAME, MAX_QUIET_RANGES } from './encode.js';
export { encodeUplink, statusWord } from './encode-uplink.js';
export { VoiceAssembler, DEFAULT_MAX_VOICE_BYTES, type VoiceChunk, type AssembleResult } from './voice-assembler.js';
export { utf16beHex, fromUtf16beHex } from './text.js';
export type * from './types.js';
