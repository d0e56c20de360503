/**
 * The parts of d3 (v7, inlined as the `d3` global) and d3-flame-graph (v5, the
 * `flamegraph` global) that the diff page uses: only what the page calls, typed.
 */
import type { FlameNode } from '../model.js';

declare global {
  /** A d3 hierarchy node as d3-flame-graph hands it to callbacks. */
  interface FlameHierarchyNode {
    data: FlameNode & { fade?: boolean; hide?: boolean };
    parent: FlameHierarchyNode | null;
    highlight?: boolean;
  }

  interface FlameGraphChart {
    (selection: D3Selection): void;
    width(): number;
    width(value: number): FlameGraphChart;
    cellHeight(value: number): FlameGraphChart;
    minFrameSize(value: number): FlameGraphChart;
    transitionDuration(value: number): FlameGraphChart;
    sort(value: boolean): FlameGraphChart;
    inverted(value: boolean): FlameGraphChart;
    tooltip(value: FlameGraphTooltip): FlameGraphChart;
    setLabelHandler(fn: (node: FlameHierarchyNode) => string): FlameGraphChart;
    setDetailsElement(element: HTMLElement | null): FlameGraphChart;
    setColorMapper(fn: (node: FlameHierarchyNode, originalColor: string) => string): FlameGraphChart;
    setSearchMatch(fn: (node: FlameHierarchyNode, term: string) => boolean): FlameGraphChart;
    setSearchHandler(fn: (results: FlameHierarchyNode[]) => void): FlameGraphChart;
    search(term: string): void;
    clear(): void;
    resetZoom(): void;
    update(): void;
    destroy(): void;
  }

  interface FlameGraphTooltip {
    text(fn: (node: FlameHierarchyNode) => string): FlameGraphTooltip;
  }

  interface D3Selection {
    datum(value: unknown): D3Selection;
    call(fn: (selection: D3Selection) => void): D3Selection;
  }

  interface Window {
    flamegraph: {
      default(): FlameGraphChart;
      tooltip: { defaultFlamegraphTooltip(): FlameGraphTooltip };
    };
  }

  const d3: {
    interpolateLab(a: string, b: string): (t: number) => string;
    format(specifier: string): (n: number) => string;
    select(element: Element): D3Selection;
  };
}
