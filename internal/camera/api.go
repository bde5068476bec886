package camera

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/httpapi"
	"linli/internal/perm"
)

type listInput struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	httpapi.PageParams
	Name string `query:"name" maxLength:"50" doc:"名称（部分）"`
}

type cidInput struct {
	CID  int `path:"cid" minimum:"1" doc:"小区编号"`
	Body Input
}

type pathInput struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	ID  int `path:"id" minimum:"1" doc:"监控设备编号"`
}

type updateInput struct {
	CID  int `path:"cid" minimum:"1" doc:"小区编号"`
	ID   int `path:"id" minimum:"1" doc:"监控设备编号"`
	Body Input
}

type liveInput struct {
	CID  int `path:"cid" minimum:"1" doc:"小区编号"`
	ID   int `path:"id" minimum:"1" doc:"监控设备编号"`
	Body struct {
		SDP string `json:"sdp" minLength:"1" maxLength:"20000" doc:"浏览器的 SDP offer（收集完 ICE 候选后）"`
	}
}

type liveOutputBody struct {
	SDP     string `json:"sdp" doc:"服务器的 SDP answer"`
	Session string `json:"session" doc:"观看会话编号，结束时 DELETE …/live/{session}"`
}

type sessionInput struct {
	CID     int    `path:"cid" minimum:"1" doc:"小区编号"`
	ID      int    `path:"id" minimum:"1" doc:"监控设备编号"`
	Session string `path:"session" maxLength:"64" doc:"观看会话编号"`
}

// Register adds 监控设备 of the console.
func (s *Service) Register(api huma.API) {
	// Cameras are 设备: watching (snapshots, live, refresh) needs
	// 设备·查看, adding, changing and removing them 设备·编辑.
	huma.Register(api, httpapi.Op("list-cameras", http.MethodGet, "/api/v1/communities/{cid}/cameras", "监控设备列表", auth.Needs(perm.DevicesView),
		httpapi.Tags("门禁信息管理")),
		func(ctx context.Context, in *listInput) (*httpapi.Body[httpapi.Page[Camera]], error) {
			cs, total, err := s.List(ctx, in.CID, in.Name, in.Offset(), in.Size)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(httpapi.Page[Camera]{Items: cs, Total: total}), nil
		})
	huma.Register(api, httpapi.Op("create-camera", http.MethodPost, "/api/v1/communities/{cid}/cameras", "新增监控设备", auth.Needs(perm.DevicesEdit),
		httpapi.Tags("门禁信息管理"),
		httpapi.Status(http.StatusCreated),
		httpapi.Describe("服务器先通过 ONVIF 连接摄像机，读取设备信息、H.264 配置、视频流和抓图地址；"+
			"连接不上、密码错误、不是 ONVIF 设备或没有 H.264 配置时返回 422，不保存。")), func(ctx context.Context, in *cidInput) (*httpapi.Body[*Camera], error) {
		c, err := s.Add(ctx, in.CID, in.Body)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(c), nil
	})
	huma.Register(api, httpapi.Op("get-camera", http.MethodGet, "/api/v1/communities/{cid}/cameras/{id}", "监控设备详情", auth.Needs(perm.DevicesView),
		httpapi.Tags("门禁信息管理")),
		func(ctx context.Context, in *pathInput) (*httpapi.Body[*Camera], error) {
			c, err := s.Get(ctx, in.CID, in.ID)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(c), nil
		})
	huma.Register(api, httpapi.Op("update-camera", http.MethodPatch, "/api/v1/communities/{cid}/cameras/{id}", "修改监控设备", auth.Needs(perm.DevicesEdit),
		httpapi.Tags("门禁信息管理"),
		httpapi.Describe("改地址、用户名或密码时先重新连接摄像机检查；密码不填为不变。")), func(ctx context.Context, in *updateInput) (*httpapi.Body[*Camera], error) {
		c, err := s.Update(ctx, in.CID, in.ID, in.Body)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(c), nil
	})
	huma.Register(api, httpapi.Op("refresh-camera", http.MethodPost, "/api/v1/communities/{cid}/cameras/{id}/refresh", "刷新监控设备", auth.Needs(perm.DevicesView),
		httpapi.Tags("门禁信息管理"),
		httpapi.Describe("重新通过 ONVIF 读取摄像机信息；失败时状态显示原因。")), func(ctx context.Context, in *pathInput) (*httpapi.Body[*Camera], error) {
		c, err := s.Refresh(ctx, in.CID, in.ID)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(c), nil
	})
	huma.Register(api, httpapi.Op("delete-camera", http.MethodDelete, "/api/v1/communities/{cid}/cameras/{id}", "删除监控设备", auth.Needs(perm.DevicesEdit),
		httpapi.Tags("门禁信息管理"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *pathInput) (*struct{}, error) {
			return nil, s.Delete(ctx, in.CID, in.ID)
		})
	huma.Register(api, httpapi.Op("get-camera-snapshot", http.MethodGet, "/api/v1/communities/{cid}/cameras/{id}/snapshot.jpg", "监控设备抓图", auth.Needs(perm.DevicesView),
		httpapi.Tags("门禁信息管理"),
		httpapi.Binary("image/jpeg", "JPEG 图片")),
		func(ctx context.Context, in *pathInput) (*httpapi.File, error) {
			data, err := s.Snapshot(ctx, in.CID, in.ID)
			if err != nil {
				return nil, err
			}
			return httpapi.NewFile("image/jpeg", "private, no-store", data), nil
		})
	huma.Register(api, httpapi.Op("start-camera-live", http.MethodPost, "/api/v1/communities/{cid}/cameras/{id}/live", "观看实时画面", auth.Needs(perm.DevicesView),
		httpapi.Tags("门禁信息管理"),
		httpapi.Status(http.StatusCreated),
		httpapi.Describe("WHEP 方式：浏览器提交 SDP offer（视频 recvonly、音频 recvonly，收集完 ICE 候选），服务器返回 answer 和会话编号。"+
			"同一摄像机的所有观看者共用一路 RTSP 连接。")), func(ctx context.Context, in *liveInput) (*httpapi.Body[liveOutputBody], error) {
		answer, sid, err := s.Live(ctx, in.CID, in.ID, in.Body.SDP)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(liveOutputBody{SDP: answer, Session: sid}), nil
	})
	huma.Register(api, httpapi.Op("stop-camera-live", http.MethodDelete, "/api/v1/communities/{cid}/cameras/{id}/live/{session}", "结束观看实时画面", auth.Needs(perm.DevicesView),
		httpapi.Tags("门禁信息管理"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *sessionInput) (*struct{}, error) {
			return nil, s.StopLive(ctx, in.CID, in.ID, in.Session)
		})
}
