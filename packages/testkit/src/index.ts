export {
  badInput,
  basics,
  cancellation,
  type Check,
  type CheckGroup,
  expiry,
  failing,
  failures,
  groups,
  inspection,
  ordering,
  rejectionCode,
  renewal,
} from './checks.js';
export { Harness, type SuiteContext, type SuiteOptions, type Tracked, sleep, track } from './harness.js';
export { modelCheck, modelGroup } from './model.js';
export { describeGroup, lockStoreSuite } from './suite.js';
