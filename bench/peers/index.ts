/** The peer message systems the benchmark measures beside Brook, in the order it runs them. */
import { NatsJetStreamPeer } from './nats.js';
import { RabbitMqStreamPeer } from './rabbitmq.js';
import { RedisStreamsPeer } from './redis.js';
import type { Peer } from './types.js';

export type { Peer, PeerResult, PeerStartOptions, PeerWorkload } from './types.js';

/** One instance of each peer; each starts and stops its own server. */
export const peers: Peer[] = [
  new RedisStreamsPeer(),
  new NatsJetStreamPeer(),
  new RabbitMqStreamPeer(),
];
