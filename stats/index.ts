// Public entry point of driftwatch's statistics: pure functions, no I/O. Import from here
// (`stats/index.ts`) rather than from the individual modules, which may be reorganized.

export { type BinomialTestInput, type BinomialTestResult, binomialTest } from './binomial-test.ts'
export {
  bernoulliCusumStep,
  type ChangeBin,
  type ChangeLook,
  type ChangeState,
  cusumThreshold,
  gaussianCusumStep,
  initialChangeState,
} from './change-detector.ts'
export {
  binomialCdf,
  binomialLogPmf,
  binomialSfInclusive,
  chiSquareCdf,
  chiSquareSf,
  hypergeometricLogPmf,
  studentTCdf,
  studentTSf,
} from './distributions.ts'
export { type FisherExactResult, fisherExactTest } from './fisher-exact.ts'
export {
  type Alternative,
  type ConfidenceInterval,
  type IntervalSides,
  tailProbabilities,
} from './interval.ts'
export { type MannWhitneyInput, type MannWhitneyResult, mannWhitneyU } from './mann-whitney.ts'
export {
  type GaussianObservation,
  gaussianMixtureBoundary,
  gaussianMixtureLogLR,
  gaussianMsprtStep,
  initialRateThresholdState,
  initialSequentialState,
  meanDifferenceObservation,
  proportionDifferenceObservation,
  quantileDifferenceObservation,
  type RateThresholdOptions,
  rateThresholdMsprtStep,
  rateThresholdPrior,
  type SequentialLook,
  type SequentialOptions,
  type SequentialState,
  tauForHorizon,
  type Worse,
} from './msprt.ts'
export { erfc, normalCdf, normalLogCdf, normalPdf, normalQuantile, normalSf } from './normal.ts'
export {
  clopperPearsonInterval,
  type ProportionCount,
  type ProportionIntervalOptions,
  wilsonInterval,
} from './proportion-interval.ts'
export {
  bootstrapQuantileDifference,
  type QuantileBootstrapInput,
  type QuantileBootstrapResult,
  selectQuantileInPlace,
} from './quantile-bootstrap.ts'
export {
  type QuantileDifferenceBound,
  type QuantileInterval,
  type QuantileIntervalOptions,
  quantileDifferenceBound,
  quantileInterval,
  quantileRanks,
} from './quantile-interval.ts'
export { createRng, mulberry32, type Rng } from './random.ts'
export { type RateChangePlan, type RateChangePlanInput, rateChangePlan } from './rate-change-test.ts'
export {
  type SampleRatioInput,
  type SampleRatioResult,
  sampleRatioMismatch,
} from './sample-ratio-mismatch.ts'
export {
  type NormalIndPowerInput,
  normalIndPower,
  type PlanSampleSizeInput,
  planSampleSize,
  type SampleSizePlan,
  solveNormalIndPowerNobs1,
} from './sample-size.ts'
export {
  inverseRegularizedBeta,
  logAddExp,
  logBeta,
  logChoose,
  logGamma,
  regularizedBeta,
  regularizedGammaP,
  regularizedGammaQ,
} from './special.ts'
export { countAbove, type TailPlan, type TailPlanInput, tailPlan } from './tail-test.ts'
export {
  type TwoProportionInput,
  type TwoProportionZTestResult,
  twoProportionZTest,
} from './two-proportion-z-test.ts'
export { type MeanSummary, summarize, type WelchInput, type WelchResult, welchTTest } from './welch-t-test.ts'
