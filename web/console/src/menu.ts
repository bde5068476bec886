// The left menu. THE single place where menu entries are added: when a new
// page exists, add (or uncomment) its entry here and its route in router.ts.
import type { Component } from 'vue'
import { Avatar, Bell, Cpu, Document, Key, OfficeBuilding, PhoneFilled, Picture, Tickets, User, UserFilled } from '@element-plus/icons-vue'
import type { Role } from '@/api/client'

export interface MenuItem {
  title: string
  icon?: Component
  /** Leaf entries navigate to `path`; groups have `children` instead. */
  path?: string
  children?: MenuItem[]
  /** Only these roles see the entry (all roles when omitted). */
  roles?: Role[]
}

export const menus: MenuItem[] = [
  {
    title: '小区信息管理',
    icon: OfficeBuilding,
    children: [
      { title: '小区信息列表', path: '/communities' },
      { title: '房屋信息列表', path: '/housing' },
    ],
  },
  {
    title: '业主管理',
    icon: Avatar,
    children: [
      { title: '业主列表', path: '/residents' },
      { title: '业主申请列表', path: '/applications' },
    ],
  },
  {
    title: '门禁信息管理',
    icon: Key,
    children: [
      { title: '门禁卡列表', path: '/cards' },
      { title: '设备列表', path: '/devices' },
      { title: '监控设备', path: '/cameras' },
      { title: '访客通行', path: '/passes' },
    ],
  },
  {
    title: '公告信息管理',
    icon: Bell,
    children: [
      { title: '小区通知', path: '/notices' },
      { title: '房间通知', path: '/room-notices' },
    ],
  },
  {
    title: '内容信息管理',
    icon: Picture,
    children: [{ title: '门口机内容管理', path: '/ads' }],
  },
  {
    title: '门口呼叫',
    icon: PhoneFilled,
    children: [{ title: '门口呼叫', path: '/door-calls' }],
  },
  {
    title: '记录信息管理',
    icon: Tickets,
    children: [
      { title: '呼叫记录', path: '/records/calls' },
      { title: '开锁记录', path: '/records/unlocks' },
    ],
  },
  { title: '固件管理', icon: Cpu, path: '/firmware', roles: ['operator'] },
  { title: '账号管理', icon: UserFilled, path: '/accounts', roles: ['operator'] },
  { title: '操作日志', icon: Document, path: '/audit-log' },
  { title: '个人信息中心', icon: User, path: '/profile' },
]

export function visibleMenus(role: Role | undefined, items: MenuItem[] = menus): MenuItem[] {
  const out: MenuItem[] = []
  for (const m of items) {
    if (m.roles && (!role || !m.roles.includes(role))) continue
    if (m.children) {
      const children = visibleMenus(role, m.children)
      if (children.length > 0) out.push({ ...m, children })
    } else {
      out.push(m)
    }
  }
  return out
}

/** Title of the menu entry for a path, e.g. for the top bar breadcrumb. */
export function menuTrail(path: string, items: MenuItem[] = menus): string[] {
  for (const m of items) {
    if (m.path && (path === m.path || path.startsWith(`${m.path}/`))) return [m.title]
    if (m.children) {
      const sub = menuTrail(path, m.children)
      if (sub.length > 0) return [m.title, ...sub]
    }
  }
  return []
}
