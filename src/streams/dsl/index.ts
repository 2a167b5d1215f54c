/* The high-level streams API. */
export { type SourceOptions, StreamsApp, type StreamsAppOptions, streamsApp } from './app.js';
export { compileApp, DslTask, WATERMARK_STORE } from './compile.js';
export {
  type AggregateOptions,
  GroupedStream,
  type WindowedAggregateOptions,
  WindowedGroupedStream,
  WindowedTable,
} from './grouped.js';
export { KStream, type StreamJoinOptions, type StreamSerdes } from './stream.js';
export { KTable, type MaterializedStore } from './table.js';
export { NO_WATERMARK, WatermarkTracker } from './watermarks.js';
export { type Aggregation, type EmitMode, WindowAggregator } from './window-aggregator.js';
export { WindowJoin } from './window-join.js';
export {
  hoppingWindows,
  type SessionWindows,
  sessionWindows,
  type TimeWindows,
  tumblingWindows,
  type Windowed,
  type WindowSpec,
  windowedSerde,
  windowedToString,
} from './windows.js';
export { type DriverOutput, JobTestDriver } from './test-driver.js';
export {
  CopartitioningError,
  checkCopartitioning,
  copartitioningErrors,
  describeGraph,
  describeJob,
  type GraphDescription,
} from './describe.js';
