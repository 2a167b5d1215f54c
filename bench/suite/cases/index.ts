/**
 * Every case of the suite, in the order a full run takes them (cheap and independent first).
 */
import type { BenchCase } from '../context.js';
import { clientsCase } from './clients.js';
import { consumeCase } from './consume.js';
import { durabilityCase } from './durability.js';
import { kafkaMockCase } from './kafka-mock.js';
import { latencyCase } from './latency.js';
import { limitsCase } from './limits.js';
import { peersCase } from './peers.js';
import { produceCase } from './produce.js';
import { scaleCase } from './scale.js';
import { streamsCase } from './streams.js';

export const CASES: readonly BenchCase[] = [
  limitsCase,
  produceCase,
  consumeCase,
  kafkaMockCase,
  latencyCase,
  scaleCase,
  durabilityCase,
  peersCase,
  clientsCase,
  streamsCase,
];
