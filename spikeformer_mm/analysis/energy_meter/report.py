"""The energy report as a table and a plot of the firing rates."""
import math
from typing import Optional


def format_table(report: dict, max_rows: Optional[int] = None) -> str:
    """The report as a fixed-width text table (with an ``events`` column,
    unit events per neuron and step, for a model of integer spikes)."""
    rows = report['layers']
    if max_rows is not None and len(rows) > max_rows:
        rows = sorted(rows, key=lambda r: -r['energy_mJ'])[:max_rows]
    counts = any(r.get('num_slots') for r in report['layers'])
    w = max([len(r['name']) for r in rows] + [5])
    ev = f' {"events":>6}' if counts else ''
    lines = [f'{"layer":<{w}}  {"type":<6} {"rate":>6}{ev} {"MACs":>12} '
             f'{"SOPs":>12} {"energy mJ":>11}']
    for r in rows:
        kind = r['type'] if r['spike_input'] or r['source'] == 'input' \
            else r['type'] + '*'
        r = dict(r, type=kind)
        e = '' if not counts else '      -' if \
            r['events_per_neuron_step'] is None else \
            f' {r["events_per_neuron_step"]:>6.3f}'
        lines.append(f'{r["name"]:<{w}}  {r["type"]:<6} '
                     f'{r["firing_rate"]:>6.3f}{e} {r["macs"]:>12.4g} '
                     f'{r["sops"]:>12.4g} {r["energy_mJ"]:>11.4g}')
    e = f' {report["mean_events_per_neuron_step"]:>6.3f}' if counts else ''
    lines.append(f'{"total":<{w}}  {"":<6} {report["mean_firing_rate"]:>6.3f}'
                 f'{e} {report["macs"]:>12.4g} {report["sops"]:>12.4g} '
                 f'{report["energy_mJ"]:>11.4g}')
    lines.append(f'params {report["params"] / 1e6:.3f} M, FLOPs '
                 f'{report["flops"] / 1e9:.3f} G, T={report["T"]}, '
                 f'{report["num_images"]} images')
    c = report['conventions']
    share = report['non_spike_input']['share']
    lines.append(
        f'energy / image: measured {c["measured"]:.4g} mJ, paper '
        f'{c["paper"]:.4g} mJ (FLOPs basis {report["flops_basis"]}); the '
        f'table shows {report["convention"]}. *: reads real values, not '
        f'spikes ({len(report["non_spike_input"]["layers"])} layers past '
        f'the encoder: {share["measured"]:.1%} of the measured energy, '
        f'{share["paper"]:.1%} of the paper\'s)')
    dense = report.get('dense')
    if dense and dense['layers']:
        lines.append(
            f'dense layers (real values outside the backbone: '
            f'{len(dense["layers"])}) are MACs in both conventions: '
            f'{dense["share"]["measured"]:.1%} of the measured energy, '
            f'{dense["share"]["paper"]:.1%} of the paper\'s; not comparable '
            'with the papers\' spiking-model tables')
    lines.append('paper convention: spike inputs billed at events per neuron '
                 'and step (= the non-zero rate for 0/1 spikes; I-LIF: '
                 'counts, SpikeYOLO\'s rate)')
    if counts:
        lines.append('rate: non-zero fraction of the input; events: unit '
                     'events per neuron and step (a count of k is k; '
                     'SpikeYOLO\'s rate). Counted in the binary form: one AC '
                     'per unit event and weight it reaches.')
    return '\n'.join(lines)


def plot_firing_rates(report: dict, path: str) -> str:
    """A PNG bar chart of the mean firing rate per layer."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = [r for r in report['layers'] if r['source'] != 'input']
    fig, ax = plt.subplots(figsize=(max(8, 0.12 * len(rows)), 4))
    ax.bar(range(len(rows)), [r['firing_rate'] for r in rows],
           color=['tab:gray' if not r['spike_input'] else 'tab:orange'
                  if r['type'] == 'matmul' else 'tab:blue' for r in rows])
    ax.set_ylim(0, 1)
    ax.set_ylabel('input firing rate (non-zero fraction)')
    share = report['non_spike_input']['share'][report['convention']]
    ax.set_xlabel('synaptic layer (blue: conv/linear on spikes, orange: '
                  f'attention, gray: real-valued input, {share:.0%} of the '
                  'energy)')
    ax.set_title(f'Firing rates, T={report["T"]}, energy '
                 f'{report["energy_mJ"]:.4g} mJ/image ({report["convention"]}'
                 f' convention)')
    step = max(1, math.ceil(len(rows) / 40))
    ax.set_xticks(range(0, len(rows), step))
    ax.set_xticklabels([rows[i]['name'] for i in range(0, len(rows), step)],
                       rotation=90, fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
