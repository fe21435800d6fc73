/**
 * Temporal's `metricMeter` (both sides: pure code). deja exports no metrics yet, so this is
 * Temporal's no-op meter: counters, histograms, gauges and up-down counters that record nothing.
 * Code that instruments itself with it runs unchanged; its values go nowhere.
 */
import { ObjectFreeze, record } from './primordials';

export type MetricTags = Record<string, string | number | boolean>;
export type NumericMetricValueType = 'int' | 'float';
export type MetricKind = 'counter' | 'histogram' | 'gauge' | 'up-down-counter';
export interface Metric {
  name: string;
  unit?: string;
  description?: string;
  kind: MetricKind;
  valueType: NumericMetricValueType;
}
export interface MetricCounter extends Metric {
  add(value: number, extraTags?: MetricTags): void;
  withTags(tags: MetricTags): MetricCounter;
  kind: 'counter';
  valueType: 'int';
}
export interface MetricHistogram extends Metric {
  record(value: number, extraTags?: MetricTags): void;
  withTags(tags: MetricTags): MetricHistogram;
  kind: 'histogram';
}
export interface MetricGauge extends Metric {
  set(value: number, extraTags?: MetricTags): void;
  withTags(tags: MetricTags): MetricGauge;
  kind: 'gauge';
}
export interface MetricUpDownCounter extends Metric {
  add(value: number, extraTags?: MetricTags): void;
  withTags(tags: MetricTags): MetricUpDownCounter;
  kind: 'up-down-counter';
  valueType: 'int';
}
export interface MetricMeter {
  createCounter(name: string, unit?: string, description?: string): MetricCounter;
  createHistogram(name: string, valueType?: NumericMetricValueType, unit?: string, description?: string): MetricHistogram;
  createGauge(name: string, valueType?: NumericMetricValueType, unit?: string, description?: string): MetricGauge;
  createUpDownCounter?(name: string, unit?: string, description?: string): MetricUpDownCounter;
  withTags(tags: MetricTags): MetricMeter;
}

function metric<M extends Metric>(fields: Omit<M, 'withTags'> & Record<string, unknown>): M {
  const m = record({ ...fields }) as unknown as M & { withTags: (tags: MetricTags) => M };
  m.withTags = () => m;
  return m;
}
const nothing = (): void => undefined;

/** A meter whose instruments record nothing (Temporal's no-op meter). */
export const metricMeter: MetricMeter = /* @__PURE__ */ ObjectFreeze(
  /* @__PURE__ */ record<MetricMeter>({
    createCounter: (name, unit, description) => metric<MetricCounter>({ name, unit, description, kind: 'counter', valueType: 'int', add: nothing }),
    createHistogram: (name, valueType = 'int', unit, description) => metric<MetricHistogram>({ name, unit, description, kind: 'histogram', valueType, record: nothing }),
    createGauge: (name, valueType = 'int', unit, description) => metric<MetricGauge>({ name, unit, description, kind: 'gauge', valueType, set: nothing }),
    createUpDownCounter: (name, unit, description) => metric<MetricUpDownCounter>({ name, unit, description, kind: 'up-down-counter', valueType: 'int', add: nothing }),
    withTags: () => metricMeter,
  }),
);
