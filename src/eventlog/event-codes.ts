// The closed lists of codes the pipeline writes into an event's `errors` and `warnings`
// (documented in docs/api.md; a test keeps the two in step).

export const PIPELINE_ERROR_CODES = [
  'INTEGRATION_INACTIVE',
  'SCHEMA_VIOLATION',
  'TRANSFORM_FAILED',
  'DEALER_ID_MISSING',
  'DEALER_NOT_MAPPED',
  'INVALID_SCOPE_DEALER',
  'INVALID_EVENT_TIMESTAMP',
  'INVALID_FIELD',
  'PROCESSING_FAILED',
] as const;
type PipelineErrorCode = (typeof PIPELINE_ERROR_CODES)[number];

export const PIPELINE_WARNING_CODES = [
  'UNKNOWN_FIELD',
  'UNKNOWN_VIN',
  'UNKNOWN_VEHICLE',
  'INVALID_VIN',
  'INVALID_VIN_CHECK_DIGIT',
  'VEHICLE_VIN_MISMATCH',
] as const;
type PipelineWarningCode = (typeof PIPELINE_WARNING_CODES)[number];

export interface EventError {
  readonly errorCode: PipelineErrorCode;
  readonly errorMessage: string;
}

export interface EventWarning {
  readonly warningCode: PipelineWarningCode;
  readonly warningMessage: string;
}
