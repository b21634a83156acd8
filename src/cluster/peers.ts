// What one node tells the others so their caches do not go stale: a watch's binding or
// permissions changed, a family's fences changed, a watch left its family. Carried by the
// Socket.IO adapter (serverSideEmit), so a single node needs nothing and a cluster uses Redis.
export type PeerMessage = { type: 'device'; id: string } | { type: 'fences'; id: string } | { type: 'watch-left'; id: string };

export type PeerPublisher = (msg: PeerMessage) => void;

export const PEER_EVENT = 'hub:peer';
