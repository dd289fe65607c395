/** An echarts chart in React: follows the system theme, resizes with its box, and offers "save as PNG". */
import * as echarts from 'echarts';
import { useEffect, useRef } from 'react';
import { useDarkMode } from '../theme.js';

export function Chart({
  option,
  height = 260,
  label,
  onClick,
}: {
  option: echarts.EChartsOption;
  height?: number;
  label: string;
  /** Called with echarts' click params when a mark is clicked. */
  onClick?: (params: unknown) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const dark = useDarkMode();

  useEffect(() => {
    const el = box.current!;
    const c = echarts.init(el, dark ? 'dark' : undefined, { renderer: 'canvas' });
    chart.current = c;
    const observer = new ResizeObserver(() => c.resize());
    observer.observe(el);
    return () => {
      observer.disconnect();
      // A large chart (the timeline) paints over several frames, and zrender's next frame
      // would paint into the disposed chart and throw. Painting it empty first makes that
      // frame stale, so it does nothing.
      c.clear();
      c.getZr().refreshImmediately();
      c.dispose();
      chart.current = null;
    };
  }, [dark]);

  useEffect(() => {
    const c = chart.current;
    if (!c || !onClick) return;
    c.on('click', onClick);
    return () => void c.off('click', onClick);
  }, [onClick, dark]);

  useEffect(() => {
    chart.current?.setOption(
      {
        backgroundColor: 'transparent',
        toolbox: { feature: { saveAsImage: { title: 'Save as PNG', name: label.replace(/[^\w.-]+/g, '-') } } },
        ...option,
      },
      { notMerge: true },
    );
  }, [option, label, dark]);

  return <div ref={box} className="chart" role="img" aria-label={label} style={{ height }} />;
}
