/** The peer message systems the benchmark measures beside Brook, in the order it runs them. */
import { NatsJetStreamPeer } from './nats.js';
import { RabbitMqStreamPeer } from './rabbitmq.js';
import { RedisStreamsPeer } from './redis.js';
import type { Peer } from './types.js';

export type { Peer, PeerResult, PeerStartOptions, PeerWorkload } from './types.js';

/**
 * One instance of each peer; each starts and stops its own server. Redis appears twice: written
 * by its C load generator (redis-streams-c, the counterpart of kcat for Brook) and by the Node
 * client ioredis (redis-streams, the counterpart of Brook's own client).
 */
export const peers: Peer[] = [
  new RedisStreamsPeer({ producer: 'redis-benchmark' }),
  new RedisStreamsPeer(),
  new NatsJetStreamPeer(),
  new RabbitMqStreamPeer(),
];

/**
 * Variants worth running by hand (tsx bench/peers/try.ts NAME) but not in every suite run:
 * RabbitMQ's stream queue over AMQP 0-9-1, slower than its stream protocol by design.
 */
export const morePeers: Peer[] = [new RabbitMqStreamPeer({ protocol: 'amqp' })];
