/** The public face of the model, for the CLI, services, worker threads and the browser. */
export { MODEL_VERSION } from './result/version.js';
export { experimentSchema, type Experiment, type ExperimentInput } from './config/experiment.js';
export {
  validateExperiment,
  parseExperiment,
  ConfigError,
  type ConfigIssue,
  type PresetMap,
  type ValidationResult,
} from './config/validate.js';
export { experimentJsonSchema } from './config/json-schema.js';
export { simulate, Simulation, WorkloadError, type SimulateOptions } from './simulate.js';
export { HorizonError, HORIZON_PS } from './engine/time.js';
export { Cancelled } from './machine/run-streams.js';
export { ERRNOS, OpError, type Errno } from './engine/errno.js';
export type * from './result/types.js';
export type { TraceSource } from './workload/types.js';
