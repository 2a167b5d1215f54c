export { bytesSerde, jsonSerde, stringSerde } from './basic.js';
export {
  doubleSerde,
  int32Serde,
  int64Serde,
  longSerde,
  orderedInt32Serde,
  orderedLongSerde,
} from './numbers.js';
export { deserializeAt, type Serde, type SerdeType, serdeFrom } from './serde.js';
