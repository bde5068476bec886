import type { Area, Building, Unit } from '@/api/client'

export type TreeNode =
  | { key: string; kind: 'area'; label: string; area: Area; children: TreeNode[] }
  | { key: string; kind: 'building'; label: string; area: Area; building: Building; children: TreeNode[] }
  | { key: string; kind: 'unit'; label: string; area: Area; building: Building; unit: Unit }

export type TreeAction = 'add-building' | 'add-unit' | 'add-room' | 'batch-rooms' | 'edit' | 'delete'

export const areaLabel = (a: Area): string => a.name || `${a.number}区`
export const buildingLabel = (b: Building): string => b.name || `${b.number}栋`
export const unitLabel = (u: Unit): string => u.name || `${u.number}单元`

export function toTreeNodes(areas: Area[]): TreeNode[] {
  return areas.map((area) => ({
    key: `a${area.id}`,
    kind: 'area',
    label: areaLabel(area),
    area,
    children: (area.buildings ?? []).map(
      (building): TreeNode => ({
        key: `b${building.id}`,
        kind: 'building',
        label: buildingLabel(building),
        area,
        building,
        children: (building.units ?? []).map(
          (unit): TreeNode => ({
            key: `u${unit.id}`,
            kind: 'unit',
            label: unitLabel(unit),
            area,
            building,
            unit,
          }),
        ),
      }),
    ),
  }))
}

/** Stable test id of a tree node, built from the numbers (see TESTIDS.md). */
export function nodeTestId(node: TreeNode): string {
  switch (node.kind) {
    case 'area':
      return `tree-area-${node.area.number}`
    case 'building':
      return `tree-building-${node.area.number}-${node.building.number}`
    case 'unit':
      return `tree-unit-${node.area.number}-${node.building.number}-${node.unit.number}`
  }
}

/** "1区 / 2栋 / 3单元" for dialogs when the server label is not at hand. */
export function nodePath(node: TreeNode): string {
  switch (node.kind) {
    case 'area':
      return areaLabel(node.area)
    case 'building':
      return `${areaLabel(node.area)} / ${buildingLabel(node.building)}`
    case 'unit':
      return node.unit.label || `${areaLabel(node.area)} / ${buildingLabel(node.building)} / ${unitLabel(node.unit)}`
  }
}
