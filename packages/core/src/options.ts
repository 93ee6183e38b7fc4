// The option-check helpers live in @tim-broadcast/transport (the lowest layer, which checks its own options with
// them); core re-exports them so every package imports them from one place.
export {
  MAX_TIMER_MS,
  closestName,
  unknownOptionIssues,
  numberIssue,
  signalIssue,
  objectIssue,
  describeValue,
  throwIfIssues,
  type NumberRule,
} from '@tim-broadcast/transport';
